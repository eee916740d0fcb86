using System.Formats.Tar;
using System.IO.Compression;

namespace Cifar10.Data;

/// <summary>
/// Extracts the data folder of a CIFAR .tar.gz archive (cifar-10-batches-bin, cifar-100-binary). Everything goes to a
/// temporary sibling folder that is renamed into place only after the whole archive was read and
/// the result validated, so an interrupted or corrupt extraction never leaves a folder that a
/// later run would trust.
/// </summary>
internal static class ArchiveExtractor
{
    /// <summary>
    /// Extracts <paramref name="archivePath"/> so that <paramref name="destinationFolder"/>
    /// (the final data folder, which must not exist yet) holds the layout's files.
    /// </summary>
    /// <returns>The checksums of the extracted files, also recorded in the folder (<see cref="DataLocator.ChecksumFile"/>).</returns>
    public static DataFingerprint Extract(string archivePath, string destinationFolder, BinaryLayout layout, CancellationToken cancellation = default)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(destinationFolder))!;
        Directory.CreateDirectory(parent);
        RemoveAbandonedExtractions(parent);
        // Same parent as the destination: the final rename stays on one file system and is atomic.
        var temporary = Path.Combine(parent, $".extracting-{Guid.NewGuid():N}");
        try
        {
            ExtractEntries(archivePath, temporary, layout.FolderName + "/", cancellation);
            var extracted = Path.Combine(temporary, layout.FolderName);
            if (!Directory.Exists(extracted))
                throw new DataException($"archive {archivePath} holds no {layout.FolderName}/ folder");
            DataFingerprint fingerprint;
            try
            {
                fingerprint = CifarBinary.Validate(extracted, layout, cancellation);
            }
            catch (DataException e)
            {
                throw new DataException($"archive {archivePath} is incomplete or corrupt: {e.Message}", e);
            }
            DataLocator.WriteChecksums(extracted, fingerprint);
            try
            {
                Directory.Move(extracted, destinationFolder);
            }
            catch (IOException) when (Directory.Exists(destinationFolder))
            {
                // Another process extracted the same archive first; it validated its copy before renaming it.
            }
            return fingerprint;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException)
        {
            // Typical causes: truncated gzip stream, bad tar header, a file that is no archive at all.
            throw new DataException($"archive {archivePath} could not be extracted (corrupt or truncated?): {e.Message}", e);
        }
        finally
        {
            if (Directory.Exists(temporary))
                Directory.Delete(temporary, recursive: true);
        }
    }

    // A run killed mid-extraction leaves its temporary folder behind. Nothing trusts it, but it
    // takes space; one older than an hour cannot belong to an extraction still running.
    static void RemoveAbandonedExtractions(string parent)
    {
        foreach (var folder in Directory.GetDirectories(parent, ".extracting-*"))
        {
            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) < TimeSpan.FromHours(1)) continue;
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static void ExtractEntries(string archivePath, string targetRoot, string entryPrefix, CancellationToken cancellation)
    {
        var root = Path.GetFullPath(targetRoot) + Path.DirectorySeparatorChar;
        using var file = File.OpenRead(archivePath);
        // GZipStream's own error for a non-gzip file ("unsupported compression method") misleads.
        Span<byte> magic = stackalloc byte[2];
        if (file.ReadAtLeast(magic, 2, throwOnEndOfStream: false) < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
            throw new DataException($"{archivePath} is not a gzip file; expected a .tar.gz archive such as {BinaryLayout.Cifar10.ArchiveFileName}");
        file.Position = 0;
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry(copyData: false) is { } entry)
        {
            cancellation.ThrowIfCancellationRequested();
            var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
            // Refuse the whole archive on an escaping name rather than skipping it: such an archive is hostile or broken.
            if (name.StartsWith('/') || name.Split('/', '\\').Contains(".."))
                throw new DataException($"archive {archivePath} has an unsafe entry '{entry.Name}' (absolute path or '..'); refusing to extract it");
            if (!name.StartsWith(entryPrefix, StringComparison.Ordinal))
                continue; // the official archives hold nothing else we need

            var target = Path.GetFullPath(Path.Combine(targetRoot, name));
            if (!target.StartsWith(root, StringComparison.Ordinal))
                throw new DataException($"archive {archivePath} has an unsafe entry '{entry.Name}' that would land outside the extraction folder");

            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(target);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    using (var output = File.Create(target))
                        if (entry.DataStream is { } data) CopyInterruptibly(data, output, cancellation);
                    break;
                default:
                    // Links could point outside the folder; the CIFAR archives have none.
                    throw new DataException($"archive {archivePath} has a {entry.EntryType} entry '{entry.Name}'; only regular files are accepted");
            }
        }
    }

    // A 30 MB batch file takes a moment to inflate; an interrupt should not wait for six of them.
    static void CopyInterruptibly(Stream input, Stream output, CancellationToken cancellation)
    {
        var buffer = new byte[1 << 20];
        int read;
        while ((read = input.Read(buffer)) > 0)
        {
            cancellation.ThrowIfCancellationRequested();
            output.Write(buffer, 0, read);
        }
    }
}
