namespace Cifar10;

/// <summary>
/// The folders one step creates, taken away again unless the step succeeds: a rejected setting or a
/// failed extraction leaves no empty folder behind. Only folders this object created, and only while
/// they are still empty, are removed.
/// </summary>
internal sealed class CreatedFolders : IDisposable
{
    private readonly List<string> created = [];
    private bool kept;

    private CreatedFolders() { }

    /// <summary>Creates <paramref name="folder"/> and whichever of its parents are missing.</summary>
    public static CreatedFolders For(string folder)
    {
        var result = new CreatedFolders();
        for (var dir = new DirectoryInfo(Path.GetFullPath(folder)); dir is not null && !dir.Exists; dir = dir.Parent)
            result.created.Add(dir.FullName);
        Directory.CreateDirectory(folder);
        return result;
    }

    /// <summary>The step succeeded: the folders stay.</summary>
    public void Keep() => kept = true;

    public void Dispose()
    {
        if (kept) return;
        foreach (var folder in created) // deepest first
        {
            try
            {
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
                    Directory.Delete(folder);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
