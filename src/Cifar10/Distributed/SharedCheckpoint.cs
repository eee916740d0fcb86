namespace Cifar10.Distributed;

/// <summary>
/// A checkpoint folder of rank 0 on every rank: rank 0 uses its own, the others a private temporary copy of
/// its files received over MPI, so the run folder need not be on a file system every machine sees. The copy
/// is deleted on dispose.
/// </summary>
internal sealed class SharedCheckpoint : IDisposable
{
    readonly string? copy;

    SharedCheckpoint(string? folder, string? copy)
    {
        Folder = folder;
        this.copy = copy;
    }

    /// <summary>The checkpoint folder to read on this rank; null when rank 0 had none.</summary>
    public string? Folder { get; }

    /// <summary>Rank 0's <paramref name="folderOnMain"/> (null: none) on every rank; the other ranks' argument is ignored.</summary>
    public static SharedCheckpoint From(DataParallel parallel, string? folderOnMain)
    {
        if (parallel.Size == 1) return new SharedCheckpoint(folderOnMain, null);
        var packed = parallel.FromMain(parallel.IsMain && folderOnMain is not null ? Pack(folderOnMain) : null);
        if (parallel.IsMain) return new SharedCheckpoint(folderOnMain, null);
        if (packed is null) return new SharedCheckpoint(null, null);
        var copy = Directory.CreateTempSubdirectory($"cifar10-rank{parallel.Rank}-").FullName;
        try
        {
            Unpack(packed, copy);
            return new SharedCheckpoint(copy, copy);
        }
        catch
        {
            Directory.Delete(copy, recursive: true);
            throw;
        }
    }

    /// <summary>The folder's files (a checkpoint has no subfolders) as one buffer: count, then name, length and bytes of each.</summary>
    static byte[] Pack(string folder)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            var files = Directory.GetFiles(folder);
            writer.Write(files.Length);
            foreach (var file in files)
            {
                var bytes = File.ReadAllBytes(file);
                writer.Write(Path.GetFileName(file));
                writer.Write(bytes.Length);
                writer.Write(bytes);
            }
        }
        return buffer.ToArray();
    }

    static void Unpack(byte[] packed, string folder)
    {
        using var reader = new BinaryReader(new MemoryStream(packed));
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            var name = Path.GetFileName(reader.ReadString()); // a name, never a path
            var bytes = reader.ReadBytes(reader.ReadInt32());
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }
    }

    public void Dispose()
    {
        if (copy is not null && Directory.Exists(copy)) Directory.Delete(copy, recursive: true);
    }
}
