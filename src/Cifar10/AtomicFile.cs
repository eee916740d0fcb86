using System.Text;
using System.Text.Json;

namespace Cifar10;

/// <summary>
/// Writes a file under a temporary name in the same folder and then renames it over the target, so a crash
/// (or a reader opening the file mid-write) never sees a half-written file. The rename is atomic because
/// source and target are on the same file system. Every file the toolkit writes whole goes through here.
/// </summary>
internal static class AtomicFile
{
    // No BOM: CSV readers and browsers alike handle plain UTF-8 best.
    private static readonly Encoding Utf8NoBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    public static void WriteAllText(string path, string contents) =>
        WriteAllBytes(path, Utf8NoBom.GetBytes(contents));

    public static void WriteJson<T>(string path, T value) =>
        WriteAllText(path, JsonSerializer.Serialize(value, JsonFiles.Options));

    public static void WriteAllBytes(string path, byte[] contents) =>
        Write(path, stream => stream.Write(contents));

    /// <summary>Lets <paramref name="write"/> fill the temporary file, then renames it into place.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        // Leading dot and random suffix: hidden from casual listings and unique across concurrent writers.
        var temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
