using System.Buffers.Binary;
using System.Numerics;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Tensorboard;

namespace Cifar10.Reporting;

/// <summary>
/// One TensorBoard event file (events.out.tfevents.*) in a folder: scalars, PNG images, and the
/// hparams plugin's summaries of a run's settings and final metrics. Events are held until
/// <see cref="Flush"/> and then appended in one write, so a training step costs no file access; a
/// process killed before a flush loses only what it had not flushed (an epoch that is redone on
/// resume). The file is TFRecord framing (length, masked CRC-32C, bytes, masked CRC-32C) around the
/// Event protobuf TorchSharp ships.
/// </summary>
public sealed class TensorBoardEvents
{
    /// <summary>The hparams plugin's tags and the version of its data (tensorboard/plugins/hparams/metadata.py).</summary>
    const string HParamsPlugin = "hparams";
    const string ExperimentTag = "_hparams_/experiment";
    const string SessionStartTag = "_hparams_/session_start_info";
    const string SessionEndTag = "_hparams_/session_end_info";

    static int filesOpened;

    readonly List<byte[]> pending = [];

    /// <summary>The event file written.</summary>
    public string Path { get; }

    /// <summary>A new event file in <paramref name="folder"/> (created if missing), starting with the file-version event TensorBoard expects.</summary>
    public TensorBoardEvents(string folder)
    {
        Directory.CreateDirectory(folder);
        var name = $"events.out.tfevents.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{System.Environment.MachineName}.{System.Environment.ProcessId}.{Interlocked.Increment(ref filesOpened)}";
        Path = System.IO.Path.Combine(folder, name);
        Add(new Event { FileVersion = "brain.Event:2" });
        Flush();
    }

    /// <summary>A number under <paramref name="tag"/> at <paramref name="step"/> (a point of a TensorBoard curve); written at the next <see cref="Flush"/>.</summary>
    public void Scalar(string tag, double value, long step) =>
        Add(step, new Summary.Types.Value { Tag = tag, SimpleValue = (float)value });

    /// <summary>A PNG file's image under <paramref name="tag"/>.</summary>
    public void Image(string tag, byte[] png, long step)
    {
        var (width, height) = PngSize(png);
        Add(step, new Summary.Types.Value
        {
            Tag = tag,
            Image = new Summary.Types.Image { Width = width, Height = height, Colorspace = 3, EncodedImageString = ByteString.CopyFrom(png) },
        });
    }

    /// <summary>
    /// The hparams plugin's three summaries for a finished run (as PyTorch's SummaryWriter.add_hparams
    /// writes them): the experiment (which settings and metrics there are), the session's setting values,
    /// and its successful end. Values are numbers, booleans or text; a null value is left out. The metrics
    /// are scalars under <paramref name="metricTags"/>, written separately with <see cref="Scalar"/>.
    /// </summary>
    public void HParams(IReadOnlyList<KeyValuePair<string, object?>> settings, IReadOnlyList<string> metricTags,
                        DateTimeOffset started, DateTimeOffset ended)
    {
        var given = settings.Where(s => s.Value is not null).Select(s => (s.Key, Value: ProtobufValue(s.Value!))).ToList();
        var experiment = Proto.Message(o =>
        {
            o.Double(3, started.ToUnixTimeMilliseconds() / 1000.0);
            foreach (var (name, value) in given)
                o.Message(4, Proto.Message(info => info.String(1, name).Varint(4, (int)TypeOf(value))));
            foreach (var tag in metricTags)
                o.Message(5, Proto.Message(info => info.Message(1, Proto.Message(metric => metric.String(2, tag)))));
        });
        var sessionStart = Proto.Message(o =>
        {
            foreach (var (name, value) in given)
                o.Message(1, Proto.Message(entry => entry.String(1, name).Message(2, value.ToByteArray())));
            o.Double(5, started.ToUnixTimeMilliseconds() / 1000.0);
        });
        const int success = 1;
        var sessionEnd = Proto.Message(o => o.Varint(1, success).Double(2, ended.ToUnixTimeMilliseconds() / 1000.0));

        // HParamsPluginData: version 0 (the default, so not written), then one of its three kinds.
        AddPluginSummary(ExperimentTag, Proto.Message(o => o.Message(2, experiment)));
        AddPluginSummary(SessionStartTag, Proto.Message(o => o.Message(3, sessionStart)));
        AddPluginSummary(SessionEndTag, Proto.Message(o => o.Message(4, sessionEnd)));
    }

    /// <summary>Appends the events added since the last flush.</summary>
    public void Flush()
    {
        if (pending.Count == 0) return;
        using (var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read))
            foreach (var record in pending) file.Write(record);
        pending.Clear();
    }

    /// <summary>TFRecord's checksum: CRC-32C, rotated and offset so that a checksum of checksums does not collide.</summary>
    internal static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    /// <summary>CRC-32C (Castagnoli), as TFRecord frames its records.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    void AddPluginSummary(string tag, byte[] content) => Add(0, new Summary.Types.Value
    {
        Tag = tag,
        Metadata = new SummaryMetadata
        {
            PluginData = new SummaryMetadata.Types.PluginData { PluginName = HParamsPlugin, Content = ByteString.CopyFrom(content) },
        },
    });

    void Add(long step, Summary.Types.Value value)
    {
        var summary = new Summary();
        summary.Value.Add(value);
        Add(new Event { Step = step, Summary = summary });
    }

    void Add(Event e)
    {
        e.WallTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var data = e.ToByteArray();
        var record = new byte[8 + 4 + data.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), MaskedCrc(record.AsSpan(0, 8)));
        data.CopyTo(record, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12 + data.Length), MaskedCrc(data));
        pending.Add(record);
    }

    static Value ProtobufValue(object value) => value switch
    {
        bool b => Value.ForBool(b),
        int or long or float or double => Value.ForNumber(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)),
        _ => Value.ForString(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? ""),
    };

    /// <summary>The hparams plugin's DataType of a value.</summary>
    enum HParamType { String = 1, Bool = 2, Float64 = 3 }

    static HParamType TypeOf(Value value) => value.KindCase switch
    {
        Value.KindOneofCase.BoolValue => HParamType.Bool,
        Value.KindOneofCase.NumberValue => HParamType.Float64,
        _ => HParamType.String,
    };

    /// <summary>Width and height from a PNG's header chunk (IHDR, always first).</summary>
    static (int Width, int Height) PngSize(byte[] png)
    {
        if (png.Length < 24 || png[12] != 'I' || png[13] != 'H' || png[14] != 'D' || png[15] != 'R')
            throw new ArgumentException("not a PNG image", nameof(png));
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    /// <summary>Protobuf fields written by number, for the hparams plugin's messages (TorchSharp does not ship them).</summary>
    sealed class Proto(CodedOutputStream output)
    {
        public static byte[] Message(Action<Proto> write)
        {
            using var bytes = new MemoryStream();
            using (var output = new CodedOutputStream(bytes, leaveOpen: true)) write(new Proto(output));
            return bytes.ToArray();
        }

        public Proto String(int field, string value)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteString(value);
            return this;
        }

        public Proto Message(int field, byte[] message)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(message));
            return this;
        }

        public Proto Double(int field, double value)
        {
            output.WriteTag(field, WireFormat.WireType.Fixed64);
            output.WriteDouble(value);
            return this;
        }

        public Proto Varint(int field, int value)
        {
            output.WriteTag(field, WireFormat.WireType.Varint);
            output.WriteInt32(value);
            return this;
        }
    }
}
