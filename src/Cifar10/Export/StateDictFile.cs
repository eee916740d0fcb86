using System.IO.Compression;
using Cifar10.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Export;

/// <summary>
/// A PyTorch state_dict file as <c>torch.save(model.state_dict(), path)</c> writes it (PyTorch 1.6 and
/// later): a zip holding the pickle <c>PREFIX/data.pkl</c> and one entry <c>PREFIX/data/KEY</c> per
/// storage. Opening it reads the pickle only, bounded; tensor data is read by <see cref="LoadInto"/>,
/// after the names and shapes have been checked against the network, and only as far as the tensors
/// reach into each storage, so a small file of compressed zeros cannot make it allocate gigabytes.
/// Non-contiguous tensors and several tensors viewing one storage load as PyTorch loads them.
/// </summary>
internal sealed class StateDictFile : IDisposable
{
    /// <summary>A state_dict's pickle is a few hundred bytes per tensor; this is generous for any network here.</summary>
    const long MaxPickleBytes = 16L << 20;

    readonly string path;
    readonly ZipArchive archive;
    readonly string prefix;
    readonly bool bigEndian;

    /// <summary>The file's top-level dict as it was pickled: names to tensors, or to other values.</summary>
    public PyDict Entries { get; }

    StateDictFile(string path, ZipArchive archive, string prefix, bool bigEndian, PyDict entries)
    {
        this.path = path;
        this.archive = archive;
        this.prefix = prefix;
        this.bigEndian = bigEndian;
        Entries = entries;
    }

    /// <summary>Opens the zip and reads its pickle. Throws <see cref="CheckpointException"/> (one line, naming
    /// the file) for anything that is not a state_dict of tensors.</summary>
    public static StateDictFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        ZipArchive? archive = null;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read);
            var pickles = archive.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
            if (pickles.Count != 1)
                throw Error("is a zip file but not one torch.save writes (no PREFIX/data.pkl in it)");
            var prefix = pickles[0].FullName[..^"data.pkl".Length];
            if (archive.GetEntry(prefix + "constants.pkl") is not null || archive.Entries.Any(e => e.FullName.StartsWith(prefix + "code/", StringComparison.Ordinal)))
                throw Error("is a TorchScript archive (torch.jit.save), not a state_dict: save the network's weights with torch.save(model.state_dict(), path)");
            bool bigEndian = ReadByteOrder(archive.GetEntry(prefix + "byteorder"), path);
            var pickled = ReadBounded(pickles[0], MaxPickleBytes, path);
            object? root;
            try
            {
                root = Pickle.Read(pickled);
            }
            catch (PickleException e)
            {
                throw Error($"is not a state_dict of tensors: {e.Message} (torch.save(model.state_dict(), path) writes one)");
            }
            if (root is not PyDict entries)
                throw Error($"holds a {Describe(root)}, not a state_dict (a dict of tensors): save it with torch.save(model.state_dict(), path)");
            return new StateDictFile(path, archive, prefix, bigEndian, entries);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            archive?.Dispose();
            stream.Dispose();
            throw Error($"cannot be read as a zip file ({OneLine.Of(e.Message)})");
        }
        catch
        {
            archive?.Dispose();
            stream.Dispose();
            throw;
        }

        CheckpointException Error(string what) => new($"{path} {what}");
    }

    /// <summary>The names that hold tensors, with their records; other values are given as null.</summary>
    public IReadOnlyDictionary<string, TensorRecord?> Tensors()
    {
        var tensors = new Dictionary<string, TensorRecord?>();
        foreach (var (key, value) in Entries.Items)
        {
            if (key is not string name) throw new CheckpointException($"{path} is not a state_dict: a key is a {Describe(key)}, not a name");
            tensors[name] = value as TensorRecord;
        }
        return tensors;
    }

    /// <summary>The keys whose values are themselves dicts of tensors (a training checkpoint that holds a state_dict under "model").</summary>
    public IReadOnlyList<string> NestedStateDicts() =>
        Entries.Items.Where(e => e.Key is string && e.Value is PyDict inner && inner.Items.Any(i => i.Value is TensorRecord))
               .Select(e => (string)e.Key!).ToList();

    /// <summary>
    /// Copies each of <paramref name="targets"/>' tensors from the file (converted to the target's type and
    /// device). The caller has checked that the file has every name with its shape. Each storage is read
    /// once, only as far as its tensors reach; all together at most twice the bytes the tensors hold (a
    /// non-contiguous view may skip elements) plus <see cref="ReachSlack"/>, whatever the file claims.
    /// </summary>
    public void LoadInto(IReadOnlyDictionary<string, Tensor> targets, IReadOnlyDictionary<string, TensorRecord> records)
    {
        var reach = new Dictionary<StorageRef, long>();
        long held = 0;
        foreach (var (name, record) in records)
        {
            reach[record.Storage] = Math.Max(reach.GetValueOrDefault(record.Storage), Reach(record, name));
            held += record.Shape.Aggregate(1L, (a, b) => a * b) * ElementSize(record.Storage.Type);
        }
        long total = reach.Sum(r => r.Value * ElementSize(r.Key.Type));
        if (total > 2 * held + ReachSlack)
            throw new CheckpointException($"{path}: its tensors reach over {total:N0} bytes of storage to hold {held:N0} bytes; " +
                                          "save tensors that are not views into larger ones (tensor.clone()) with torch.save");

        using var scope = NewDisposeScope();
        var data = reach.ToDictionary(r => r.Key, r => ReadStorage(r.Key, r.Value));
        using var noGrad = no_grad();
        foreach (var (name, record) in records)
        {
            try
            {
                targets[name].copy_(data[record.Storage].as_strided(record.Shape, record.Stride, record.Offset));
            }
            catch (System.Runtime.InteropServices.ExternalException e)
            {
                throw new CheckpointException($"{path}: tensor {name} ({record.Storage.Type}) cannot be copied into the network: {OneLine.Of(e.Message)}");
            }
        }
    }

    /// <summary>What the tensors of a file may reach beyond twice their own bytes: room for small networks' odd layouts.</summary>
    const long ReachSlack = 1L << 20;

    /// <summary>How many elements of its storage a tensor reaches (one past its last element); checked against the storage's length.</summary>
    long Reach(TensorRecord record, string name)
    {
        if (record.Shape.Length != record.Stride.Length || record.Offset < 0 || record.Stride.Any(s => s < 0))
            throw new CheckpointException($"{path}: tensor {name} has an invalid layout (offset {record.Offset}, stride [{string.Join(", ", record.Stride)}])");
        if (record.Shape.Contains(0)) return 0;
        long end;
        try
        {
            end = checked(record.Offset + 1 + record.Shape.Zip(record.Stride, (size, stride) => checked((size - 1) * stride)).Aggregate(0L, (a, b) => checked(a + b)));
        }
        catch (OverflowException)
        {
            end = long.MaxValue;
        }
        if (end > record.Storage.Length)
            throw new CheckpointException($"{path}: tensor {name} reaches element {end:N0} of storage {record.Storage.Key}, which holds {record.Storage.Length:N0}");
        return end;
    }

    Tensor ReadStorage(StorageRef storage, long elements)
    {
        var tensor = empty([elements], dtype: storage.Type);
        if (elements == 0) return tensor;
        var entry = archive.GetEntry($"{prefix}data/{storage.Key}")
                    ?? throw new CheckpointException($"{path} has no data for storage {storage.Key} (entry {prefix}data/{storage.Key} is missing)");
        try
        {
            using var stream = entry.Open();
            // Only the bytes the tensors need are decompressed, whatever the entry claims to hold.
            stream.ReadExactly(tensor.bytes);
        }
        catch (EndOfStreamException)
        {
            throw new CheckpointException($"{path}: storage {storage.Key} holds fewer bytes than its tensors need (truncated?)");
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException($"{path}: storage {storage.Key} cannot be read ({OneLine.Of(e.Message)})");
        }
        if (bigEndian) SwapBytes(tensor.bytes, ElementSize(storage.Type));
        return tensor;
    }

    static void SwapBytes(Span<byte> data, int size)
    {
        if (size == 1) return;
        for (int i = 0; i < data.Length; i += size) data.Slice(i, size).Reverse();
    }

    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    static bool ReadByteOrder(ZipArchiveEntry? entry, string path)
    {
        if (entry is null) return false; // written before PyTorch recorded it: little-endian
        var order = System.Text.Encoding.ASCII.GetString(ReadBounded(entry, 16, path)).Trim();
        return order switch
        {
            "little" => false,
            "big" => true,
            _ => throw new CheckpointException($"{path} records the byte order '{order}'; expected little or big"),
        };
    }

    /// <summary>An entry's bytes, refused when it decompresses to more than <paramref name="limit"/>.</summary>
    static byte[] ReadBounded(ZipArchiveEntry entry, long limit, string path)
    {
        using var stream = entry.Open();
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + read > limit)
                throw new CheckpointException($"{path}: {entry.FullName} decompresses to more than {limit:N0} bytes, more than any state_dict's needs");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    static string Describe(object? value) => value switch
    {
        null => "None",
        TensorRecord => "tensor",
        PyDict => "dict",
        PyTuple => "tuple",
        List<object?> => "list",
        string => "string",
        long => "integer",
        double => "float",
        bool => "bool",
        _ => value.GetType().Name,
    };

    public void Dispose() => archive.Dispose();
}
