using System.CommandLine;
using Cifar10.Data;

namespace Cifar10.Cli.Commands;

/// <summary>`download`: fetch (or locate) and verify the data set, and say where it is.</summary>
public static class DownloadCommand
{
    public static Command Build(CliConsole console)
    {
        var data = CommonOptions.Data();
        var url = new Option<string?>("--url") { Description = "Download from this address instead of the official one (http, https or file)" };
        var md5 = new Option<string?>("--md5") { Description = "Expected MD5 of the archive at --url" };
        var cache = new Option<string?>("--cache") { Description = "Folder for the archive and extracted data (default ~/.cache/cifar10)" };
        var dataSettings = new SettingOptions("dataset", "labels");
        var command = new Command("download", "Download a data set (CIFAR-10 or CIFAR-100, binary version), check its MD5, extract and validate it")
        {
            data, url, md5, cache,
        };
        dataSettings.AddTo(command);
        command.SetAction(parsed =>
        {
            var options = Options(console) with
            {
                Url = parsed.GetValue(url),
                ExpectedMd5 = parsed.GetValue(md5),
                CacheDir = parsed.GetValue(cache) ?? DownloadOptions.DefaultCacheDir,
            };
            var config = dataSettings.Given(parsed).Aggregate(Training.Recipes.Classic.Defaults, (c, g) => Training.TrainSettings.Get(g.Key).Apply(c, g.Value));
            try
            {
                if (config.Dataset == DatasetKind.Folder) throw new ConfigException("an image folder needs no download: train with --data ROOT");
                var source = DataSource.Open(config.DataRequest(parsed.GetValue(data), options) with { Dataset = config.Dataset == DatasetKind.Auto ? DatasetKind.Cifar10 : config.Dataset }, console.Interrupt);
                console.Out.WriteLine($"{source.Name} ready in {source.Folder}: {source.ClassNames.Count} classes, validated " +
                                      $"(SHA-256 {source.Fingerprint.CombinedSha256[..16]}…)");
                return Program.Success;
            }
            catch (OperationCanceledException)
            {
                console.Error.WriteLine("download interrupted; nothing partial was kept");
                return Program.Interrupted;
            }
        });
        return command;
    }

    /// <summary>Download settings with progress shown the way this console can show it.</summary>
    public static DownloadOptions Options(CliConsole console) => new()
    {
        Progress = new DownloadProgressPrinter(console),
        DecodeProgress = new DecodeProgressPrinter(console),
        Log = console.Out.WriteLine,
    };
}

/// <summary>Shows download progress as a line rewritten in place on a terminal, every 10% in a log.</summary>
sealed class DownloadProgressPrinter(CliConsole console) : IProgress<DownloadProgress>
{
    int lastDecile = -1;

    public void Report(DownloadProgress value)
    {
        double? fraction = value.TotalBytes > 0 ? (double)value.BytesDone / value.TotalBytes : null;
        string text = fraction is double f
            ? $"downloading {value.BytesDone / 1e6:F1} / {value.TotalBytes / 1e6:F1} MB ({f:P0})"
            : $"downloading {value.BytesDone / 1e6:F1} MB";
        if (console.Interactive)
        {
            console.Out.Write($"\r{text}   ");
            if (fraction >= 1) console.Out.WriteLine();
            return;
        }
        int decile = fraction is double g ? (int)(g * 10) : (int)(value.BytesDone / 10_000_000);
        if (decile == lastDecile) return;
        lastDecile = decile;
        console.Out.WriteLine(text);
    }
}

/// <summary>Shows image-folder decoding as a line rewritten in place on a terminal, every 10% in a log.</summary>
sealed class DecodeProgressPrinter(CliConsole console) : IProgress<DecodeProgress>
{
    int lastDecile = -1;

    public void Report(DecodeProgress value)
    {
        var text = $"decoding images {value.Done:N0} / {value.Total:N0} ({(double)value.Done / Math.Max(1, value.Total):P0})";
        lock (this)
        {
            if (console.Interactive)
            {
                console.Out.Write($"\r{text}   ");
                if (value.Done == value.Total) console.Out.WriteLine();
                return;
            }
            int decile = value.Done * 10 / Math.Max(1, value.Total);
            if (decile == lastDecile) return;
            lastDecile = decile;
            console.Out.WriteLine(text);
        }
    }
}
