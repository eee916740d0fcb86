using Cifar10.Training;

namespace Cifar10.Runs;

/// <summary>
/// What a command that writes files the user names (export --out, eval --out) may write: a file that
/// exists only when the user passed --force, never a folder, and never a file a checkpoint or a run
/// reads back (a checkpoint's weights, optimizer state or state.json; a run's config, logs, results
/// or report), whatever the options.
/// </summary>
internal static class OutputFiles
{
    /// <summary>Throws a one-line <see cref="ConfigException"/> naming the first of <paramref name="files"/> that may not be written.</summary>
    public static void CheckCanWrite(IEnumerable<string> files, bool replace)
    {
        foreach (var file in files)
        {
            var path = Path.GetFullPath(file);
            if (Directory.Exists(path))
                throw new ConfigException($"{path} is a folder, not a file that can be written");
            if (Belongs(path) is { } owner)
                throw new ConfigException($"{path} is a file of {owner}, which is never replaced (not even with --force); choose another --out");
            if (File.Exists(path) && !replace)
                throw new ConfigException($"{path} already exists; pass --force to replace it, or choose another --out");
        }
    }

    /// <summary>Throws unless <paramref name="folder"/> is a folder (or can become one) and each of the files
    /// <paramref name="names"/> in it may be written (<see cref="CheckCanWrite"/>): eval's and lr-find's --out.</summary>
    public static void CheckCanWriteInto(string folder, IEnumerable<string> names, bool replace)
    {
        if (File.Exists(folder)) throw new ConfigException($"{Path.GetFullPath(folder)} is a file; --out names the folder to write into");
        CheckCanWrite(names.Select(name => Path.Combine(folder, name)), replace);
    }

    /// <summary>The checkpoint or run <paramref name="path"/> is one of the own files of, or null.</summary>
    static string? Belongs(string path)
    {
        var folder = Path.GetDirectoryName(path)!;
        var name = Path.GetFileName(path);
        if (RunFileSet.CheckpointFiles.Contains(name) && RunFileSet.CheckpointFiles.Any(f => File.Exists(Path.Combine(folder, f))))
            return $"checkpoint {folder}";
        if (RunFileSet.TopFiles.Contains(name) && File.Exists(Path.Combine(folder, RunFolder.ConfigFile)))
            return $"run {folder}";
        return null;
    }
}
