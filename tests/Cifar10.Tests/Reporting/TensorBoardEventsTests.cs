using System.Text;
using Cifar10.Reporting;
using Xunit;
using ProtoValue = Google.Protobuf.WellKnownTypes.Value;

namespace Cifar10.Tests.Reporting;

public class TensorBoardEventsTests : IDisposable
{
    readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void TheChecksumIsCastagnolis() =>
        Assert.Equal(0xE3069283u, TensorBoardEvents.Crc32C(Encoding.ASCII.GetBytes("123456789"))); // the standard check value

    [Fact]
    public void EventsAreFramedAsTensorBoardReadsThemAndWrittenOnFlush()
    {
        var events = new TensorBoardEvents(folder.Path);
        events.Scalar("step/loss", 2.5, 0);
        events.Scalar("step/loss", 2.25, 1);
        Assert.Single(TensorBoardFile.Read(events.Path)); // only the file version until the flush
        events.Flush();

        var read = TensorBoardFile.Read(events.Path);
        Assert.Equal("brain.Event:2", read[0].FileVersion);
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(events.Path));
        var losses = TensorBoardFile.Values(read, "step/loss");
        Assert.Equal([(0L, 2.5f), (1L, 2.25f)], losses.Select(l => (l.Step, l.Value.SimpleValue)));
        // Wall time in seconds since 1970, as TensorBoard's time axis expects.
        Assert.InRange(read[1].WallTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60);
    }

    [Fact]
    public void AnImageIsThePngWithItsSize()
    {
        var png = Path.Combine(folder.Path, "grid.png");
        Plots.PerClassAccuracy(png, SyntheticReportData.Confusion(new Random(1)), SyntheticReportData.ClassNames);
        var bitmap = ReportAssert.ValidPngFile(png);
        var events = new TensorBoardEvents(folder.Combine("tb"));
        events.Image("test/predictions", File.ReadAllBytes(png), 3);
        events.Flush();

        var (step, value) = Assert.Single(TensorBoardFile.Values(TensorBoardFile.Read(events.Path), "test/predictions"));
        Assert.Equal(3, step);
        Assert.Equal((bitmap.Width, bitmap.Height), (value.Image.Width, value.Image.Height));
        Assert.Equal(File.ReadAllBytes(png), value.Image.EncodedImageString.ToByteArray());
    }

    [Fact]
    public void HParamsAreThePluginsThreeSummaries()
    {
        var events = new TensorBoardEvents(folder.Path);
        var started = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        events.HParams([new("lr", 0.1), new("model", "fast"), new("nesterov", true), new("dropout", null)],
                       ["test/accuracy"], started, started.AddMinutes(5));
        events.Flush();
        var read = TensorBoardFile.Read(events.Path);

        // Each summary's metadata names the hparams plugin; its content is HParamsPluginData (version 0, then one kind).
        ProtoField Content(string tag)
        {
            var (_, value) = Assert.Single(TensorBoardFile.Values(read, tag));
            Assert.Equal("hparams", value.Metadata.PluginData.PluginName);
            var kind = Assert.Single(TensorBoardFile.Fields(value.Metadata.PluginData.Content));
            return new ProtoField(kind.Number, kind.Bytes!);
        }

        var experiment = Content("_hparams_/experiment");
        Assert.Equal(2, experiment.Number);
        var experimentFields = TensorBoardFile.Fields(experiment.Bytes);
        Assert.Equal(1_700_000_000.0, experimentFields.Single(f => f.Number == 3).Number64);
        var infos = experimentFields.Where(f => f.Number == 4).Select(f => TensorBoardFile.Fields(f.Bytes!)).ToList();
        // Name and DataType (1 string, 2 bool, 3 float64); a setting without a value is left out.
        Assert.Equal([("lr", 3L), ("model", 1L), ("nesterov", 2L)], infos.Select(i => (i.Single(f => f.Number == 1).Bytes!.ToStringUtf8(), i.Single(f => f.Number == 4).Varint)));
        var metric = TensorBoardFile.Fields(TensorBoardFile.Fields(experimentFields.Single(f => f.Number == 5).Bytes!).Single().Bytes!);
        Assert.Equal("test/accuracy", metric.Single(f => f.Number == 2).Bytes!.ToStringUtf8());

        var start = Content("_hparams_/session_start_info");
        Assert.Equal(3, start.Number);
        var values = TensorBoardFile.Fields(start.Bytes).Where(f => f.Number == 1).Select(f => TensorBoardFile.Fields(f.Bytes!))
            .ToDictionary(entry => entry[0].Bytes!.ToStringUtf8(), entry => ProtoValue.Parser.ParseFrom(entry[1].Bytes!));
        Assert.Equal(0.1, values["lr"].NumberValue);
        Assert.Equal("fast", values["model"].StringValue);
        Assert.True(values["nesterov"].BoolValue);
        Assert.False(values.ContainsKey("dropout"));

        var end = Content("_hparams_/session_end_info");
        Assert.Equal(4, end.Number);
        var endFields = TensorBoardFile.Fields(end.Bytes);
        Assert.Equal(1, endFields.Single(f => f.Number == 1).Varint); // STATUS_SUCCESS
        Assert.Equal(1_700_000_300.0, endFields.Single(f => f.Number == 2).Number64);
    }

    sealed record ProtoField(int Number, Google.Protobuf.ByteString Bytes);
}
