using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace Cifar10.Tests.Export;

/// <summary>One tensor of a crafted state_dict: a view of a float32 storage, as torch.save describes it.</summary>
sealed record CraftedTensor(string Name, long[] Shape, long[] Stride, long Offset, string Storage, long StorageLength);

/// <summary>
/// Writes state_dict files byte by byte, as torch.save lays them out (a zip of PREFIX/data.pkl, pickle
/// protocol 2, and PREFIX/data/KEY per storage), with whatever layouts, lengths and compression a test
/// needs, including ones torch.save would never write.
/// </summary>
static class CraftedStateDict
{
    /// <summary>The tensors of <paramref name="model"/>, each contiguous in a storage of its own, and their bytes.</summary>
    public static (List<CraftedTensor> Tensors, Dictionary<string, byte[]> Storages) Of(nn.Module model)
    {
        var tensors = new List<CraftedTensor>();
        var storages = new Dictionary<string, byte[]>();
        foreach (var (name, value) in model.state_dict())
        {
            var key = tensors.Count.ToString();
            var shape = value.shape;
            var stride = Enumerable.Range(0, shape.Length).Select(d => shape.Skip(d + 1).Aggregate(1L, (a, b) => a * b)).ToArray();
            tensors.Add(new CraftedTensor(name, shape, stride, 0, key, value.numel()));
            storages[key] = value.to_type(ScalarType.Float32).contiguous().cpu().data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray();
        }
        return (tensors, storages);
    }

    /// <summary>Writes the file; <paramref name="writeStorage"/> fills storage entries not in <paramref name="storages"/>,
    /// and <paramref name="picklePadding"/> zero bytes follow the pickle's STOP.</summary>
    public static void Write(string path, IReadOnlyList<CraftedTensor> tensors, IReadOnlyDictionary<string, byte[]> storages,
                             CompressionLevel compression = CompressionLevel.NoCompression, Action<string, Stream>? writeStorage = null,
                             long picklePadding = 0)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        using (var pickle = zip.CreateEntry("archive/data.pkl", compression).Open())
        {
            pickle.Write(Pickle(tensors));
            WriteZeros(pickle, picklePadding);
        }
        foreach (var key in tensors.Select(t => t.Storage).Distinct())
        {
            using var entry = zip.CreateEntry($"archive/data/{key}", compression).Open();
            if (storages.TryGetValue(key, out var bytes)) entry.Write(bytes);
            else writeStorage!(key, entry);
        }
        using (var version = zip.CreateEntry("archive/version").Open()) version.Write("3\n"u8);
    }

    public static void WriteZeros(Stream stream, long count)
    {
        var zeros = new byte[1 << 20];
        for (long left = count; left > 0; left -= zeros.Length) stream.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
    }

    static byte[] Pickle(IReadOnlyList<CraftedTensor> tensors)
    {
        var p = new MemoryStream();
        p.Write([0x80, 2]);                                    // PROTO 2
        Global(p, "collections", "OrderedDict");
        p.Write([(byte)')', (byte)'R', (byte)'(']);            // OrderedDict(), MARK
        foreach (var t in tensors)
        {
            Text(p, t.Name);
            Global(p, "torch._utils", "_rebuild_tensor_v2");
            p.WriteByte((byte)'(');                            // MARK of the arguments
            p.WriteByte((byte)'(');                            // MARK of the persistent id
            Text(p, "storage");
            Global(p, "torch", "FloatStorage");
            Text(p, t.Storage);
            Text(p, "cpu");
            Int(p, t.StorageLength);
            p.Write([(byte)'t', (byte)'Q']);                   // TUPLE, BINPERSID
            Int(p, t.Offset);
            Tuple(p, t.Shape);
            Tuple(p, t.Stride);
            p.WriteByte(0x89);                                 // NEWFALSE: requires_grad
            Global(p, "collections", "OrderedDict");
            p.Write([(byte)')', (byte)'R']);                   // backward hooks: OrderedDict()
            p.Write([(byte)'t', (byte)'R']);                   // TUPLE, REDUCE
        }
        p.Write([(byte)'u', (byte)'.']);                       // SETITEMS, STOP
        return p.ToArray();
    }

    static void Global(Stream p, string module, string name)
    {
        p.WriteByte((byte)'c');
        p.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    static void Text(Stream p, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        p.WriteByte((byte)'X');
        p.Write(BitConverter.GetBytes(bytes.Length));
        p.Write(bytes);
    }

    /// <summary>An integer in the opcode Python's pickler picks for it.</summary>
    static void Int(Stream p, long value)
    {
        if (value is >= 0 and < 256) p.Write([(byte)'K', (byte)value]);             // BININT1
        else if (value is >= 0 and < 65536) { p.WriteByte((byte)'M'); p.Write(BitConverter.GetBytes((ushort)value)); } // BININT2
        else if (value is >= int.MinValue and <= int.MaxValue) { p.WriteByte((byte)'J'); p.Write(BitConverter.GetBytes((int)value)); } // BININT
        else { p.Write([0x8a, 8]); p.Write(BitConverter.GetBytes(value)); }         // LONG1 of 8 bytes
    }

    static void Tuple(Stream p, long[] values)
    {
        p.WriteByte((byte)'(');
        foreach (var v in values) Int(p, v);
        p.WriteByte((byte)'t');
    }
}
