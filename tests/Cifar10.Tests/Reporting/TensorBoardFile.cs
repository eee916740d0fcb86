using System.Buffers.Binary;
using Cifar10.Reporting;
using Google.Protobuf;
using Tensorboard;
using Xunit;

namespace Cifar10.Tests.Reporting;

/// <summary>Reads TensorBoard event files back the way TensorBoard does: TFRecord framing with both
/// checksums checked, then each Event; and the hparams plugin's content field by field.</summary>
public static class TensorBoardFile
{
    public static List<Event> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        for (int at = 0; at < bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            Assert.Equal(TensorBoardEvents.MaskedCrc(bytes.AsSpan(at, 8)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)));
            var data = bytes.AsSpan(at + 12, length);
            Assert.Equal(TensorBoardEvents.MaskedCrc(data), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + length)));
            events.Add(Event.Parser.ParseFrom(data.ToArray())); // TorchSharp's generated Event parses arrays, not spans
            at += 12 + length + 4;
        }
        return events;
    }

    /// <summary>Every event of every event file in <paramref name="folder"/>.</summary>
    public static List<Event> ReadFolder(string folder) =>
        Directory.GetFiles(folder, "events.out.tfevents.*").Order().SelectMany(Read).ToList();

    /// <summary>The values of every summary with this tag, with their steps.</summary>
    public static List<(long Step, Summary.Types.Value Value)> Values(IEnumerable<Event> events, string tag) =>
        events.Where(e => e.Summary is not null)
              .SelectMany(e => e.Summary.Value.Where(v => v.Tag == tag).Select(v => (e.Step, v)))
              .ToList();

    /// <summary>A protobuf message's fields in order, as (number, bytes of a length-delimited field or the value of a varint or double).</summary>
    public static List<(int Number, ByteString? Bytes, double Number64, long Varint)> Fields(ByteString message)
    {
        var fields = new List<(int, ByteString?, double, long)>();
        var input = new CodedInputStream(message.ToByteArray());
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            int number = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.LengthDelimited: fields.Add((number, input.ReadBytes(), 0, 0)); break;
                case WireFormat.WireType.Fixed64: fields.Add((number, null, input.ReadDouble(), 0)); break;
                case WireFormat.WireType.Varint: fields.Add((number, null, 0, input.ReadInt64())); break;
                default: throw new InvalidDataException($"unexpected wire type in field {number}");
            }
        }
        return fields;
    }
}
