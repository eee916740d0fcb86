using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cifar10;

/// <summary>
/// Writes a file under a temporary name in the same folder and then renames it over the target, so a crash
/// (or a reader opening the file mid-write) never sees a half-written file. The rename is atomic because
/// source and target are on the same file system. Every file the toolkit writes whole goes through here.
/// A temporary is named after its target, this machine and this process (.NAME.HOST.PID.GUID.tmp) and is
/// locked while it is written, so that the next write into the folder can tell, and remove, the
/// temporaries of writers that were killed before their rename (<see cref="RemoveAbandoned"/>).
/// </summary>
internal static partial class AtomicFile
{
    // No BOM: CSV readers and browsers alike handle plain UTF-8 best.
    private static readonly Encoding Utf8NoBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>A temporary that no process holds and that has not changed for this long is abandoned,
    /// whoever wrote it (another machine, or a version that did not name its writer).</summary>
    internal static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(1);

    static readonly string Host = HostPattern().Replace(Environment.MachineName, "_");

    public static void WriteAllText(string path, string contents) =>
        WriteAllBytes(path, Utf8NoBom.GetBytes(contents));

    public static void WriteJson<T>(string path, T value) =>
        WriteAllText(path, JsonSerializer.Serialize(value, JsonFiles.Options));

    public static void WriteAllBytes(string path, byte[] contents) =>
        Write(path, stream => stream.Write(contents));

    /// <summary>
    /// Lets <paramref name="write"/> fill the temporary file, then renames it into place. A cancelled
    /// <paramref name="cancellation"/> stops the write at its next block and removes the temporary.
    /// With <paramref name="replace"/> false an existing <paramref name="path"/> is never replaced: the
    /// write fails with an <see cref="IOException"/> instead.
    /// </summary>
    public static void Write(string path, Action<Stream> write, bool replace = true, CancellationToken cancellation = default)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        RemoveAbandoned(directory);
        var temporary = Path.Combine(directory, TemporaryName(Path.GetFileName(fullPath), Environment.ProcessId));
        try
        {
            // FileShare.None locks the temporary for as long as it is written: a live writer's file is never taken for abandoned.
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                cancellation.ThrowIfCancellationRequested();
                write(cancellation.CanBeCanceled ? new CancellableStream(stream, cancellation) : stream);
                stream.Flush(flushToDisk: true);
            }
            cancellation.ThrowIfCancellationRequested();
            File.Move(temporary, fullPath, overwrite: replace);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>A name for a temporary of <paramref name="fileName"/> written by process <paramref name="processId"/> of this machine.</summary>
    internal static string TemporaryName(string fileName, int processId) => $".{fileName}.{Host}.{processId}.{Guid.NewGuid():N}.tmp";

    /// <summary>Whether <paramref name="name"/> is the name of a temporary this class writes (or wrote before it named its writer).</summary>
    public static bool IsTemporary(string name) => TemporaryPattern().IsMatch(name) || LegacyTemporaryPattern().IsMatch(name);

    /// <summary>
    /// Removes the temporaries in <paramref name="directory"/> whose writers are gone: no process holds
    /// the file, and it names a process of this machine that has ended, or it has not changed for
    /// <see cref="AbandonedAfter"/>. Whatever cannot be removed now is left for a later write.
    /// </summary>
    public static void RemoveAbandoned(string directory)
    {
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(directory, ".*.tmp").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (var file in candidates)
        {
            try
            {
                if (IsAbandoned(file)) File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    static bool IsAbandoned(string file)
    {
        var name = Path.GetFileName(file);
        var match = TemporaryPattern().Match(name);
        if (!match.Success && !LegacyTemporaryPattern().IsMatch(name)) return false;
        bool writerEnded = match.Success && match.Groups["host"].Value == Host
                           && int.TryParse(match.Groups["pid"].Value, out var pid) && !IsRunning(pid);
        bool stale = DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > AbandonedAfter;
        return (writerEnded || stale) && !IsLocked(file);
    }

    static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) // no such process
        {
            return false;
        }
        catch (Exception) // it exists, but cannot be looked at: count it as running
        {
            return true;
        }
    }

    /// <summary>Whether a writer still holds the file (the lock of a killed process is released with it).</summary>
    static bool IsLocked(string file)
    {
        try
        {
            using var probe = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (FileNotFoundException)
        {
            return true; // renamed into place meanwhile: nothing to remove
        }
        catch (IOException)
        {
            return true;
        }
    }

    [GeneratedRegex(@"[^A-Za-z0-9-]")]
    private static partial Regex HostPattern();

    [GeneratedRegex(@"^\..+\.(?<host>[A-Za-z0-9_-]+)\.(?<pid>[0-9]+)\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TemporaryPattern();

    [GeneratedRegex(@"^\..+\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex LegacyTemporaryPattern();

    /// <summary>Checks for cancellation before every block written, so a long write (a 48 MB export) stops within one block.</summary>
    sealed class CancellableStream(Stream inner, CancellationToken cancellation) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => inner.SetLength(value);

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            cancellation.ThrowIfCancellationRequested();
            inner.Write(buffer);
        }

        public override void WriteByte(byte value)
        {
            cancellation.ThrowIfCancellationRequested();
            inner.WriteByte(value);
        }
    }
}
