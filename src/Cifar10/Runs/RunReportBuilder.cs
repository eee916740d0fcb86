using System.Text.Json;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Reporting;
using Cifar10.Training;
using TorchSharp;

namespace Cifar10.Runs;

/// <summary>What `report` did: the test figures it drew, whether it measured them (or read the run's
/// kept predictions), and the files it wrote.</summary>
/// <param name="Test">The test figures the report shows.</param>
/// <param name="Measured">True when the test set was measured again; false when the run's kept predictions were read.</param>
/// <param name="Written">The files written.</param>
public sealed record ReportOutcome(MeasuredTest Test, bool Measured, IReadOnlyList<string> Written);

/// <summary>Gathers what a run's report shows (logs, config, test evaluation, sample images)
/// and writes it with <see cref="RunReport"/>.</summary>
public static class RunReportBuilder
{
    internal const int SampleCount = 32;

    /// <summary>The report's sample grids, which TensorBoard shows too.</summary>
    internal static readonly IReadOnlyList<(string Tag, string File)> SampleImages =
        [("test/predictions", RunReport.SamplesFile), ("test/most_confident_mistakes", RunReport.ConfidentlyWrongFile)];

    /// <summary>
    /// `report`: the run's report written again, from the test predictions the run kept (no network
    /// runs, the checkpoint need not even be there) unless <paramref name="reevaluate"/>; a run finished
    /// before runs kept them is measured again as it measured itself, and says so. The test images are
    /// read for the sample grids. <paramref name="observer"/> hears what happens and the evaluation's progress.
    /// </summary>
    public static ReportOutcome Rewrite(RunFolder run, Session session, bool reevaluate, ITrainingObserver observer,
                                        CancellationToken cancellation = default)
    {
        var kept = reevaluate ? null : TestEvaluation.Kept(run);
        if (kept is not null)
        {
            TestEvaluation.CheckMeasuredOn(kept, session.Test, session.Data.Folder);
            observer.Message($"test figures from {TestPredictions.FileName} ({kept.Measurement.Describe()}); --reevaluate measures them again");
        }
        else
        {
            observer.Message(reevaluate
                ? "measuring the test set again (--reevaluate)"
                : $"{run.Path} has no {TestPredictions.FileName} (it finished before runs kept their test predictions): measuring the test set again");
        }
        var test = kept ?? TestEvaluation.Run(run, run.ReadManifest().Config, session, observer, cancellation);
        return new ReportOutcome(test, kept is null, Write(run, test, session.Test, cancellation));
    }

    internal static IReadOnlyList<string> Write(RunFolder run, MeasuredTest measured, ImageDataset testImages, CancellationToken cancellation = default)
    {
        var manifest = run.ReadManifest();
        var learningRates = run.ReadLearningRates();
        var test = measured.Result;
        var data = new RunReportData(
            manifest.Name,
            ConfigRows(manifest),
            run.ReadMetrics(),
            learningRates,
            test.ClassNames,
            test.Confusion,
            test.Accuracy,
            Samples(test, testImages, Enumerable.Range(0, Math.Min(SampleCount, test.Count))),
            Samples(test, testImages, MostConfidentlyWrong(test, SampleCount)),
            measured.Measurement.Describe(),
            Directory.Exists(run.File(RunFolder.TensorBoardFolder)) ? RunFolder.TensorBoardFolder : null);
        return RunReport.Write(run.Path, data, cancellation);
    }

    /// <summary>Every setting, then what the run depended on, as the report's config table.</summary>
    internal static IReadOnlyList<KeyValuePair<string, string>> ConfigRows(RunManifest manifest)
    {
        var rows = new List<KeyValuePair<string, string>>();
        using var config = JsonDocument.Parse(JsonSerializer.Serialize(manifest.Config, JsonFiles.Options));
        foreach (var property in config.RootElement.EnumerateObject())
            rows.Add(new(property.Name, property.Value.ValueKind == JsonValueKind.Array
                ? string.Join(" ", property.Value.EnumerateArray())
                : property.Value.ToString()));
        rows.Add(new("data_sha256", manifest.DataSha256));
        if (manifest.Environment is { } env)
        {
            rows.Add(new("torchsharp", env.TorchSharpVersion));
            rows.Add(new("libtorch", env.LibTorchVersion));
            rows.Add(new("dotnet", env.DotNetVersion));
            rows.Add(new("cpu", $"{env.Cpu} ({env.LogicalCores} cores, {env.TorchThreads} threads)"));
        }
        rows.Add(new("created", manifest.Created.ToString("u")));
        return rows;
    }

    static IEnumerable<int> MostConfidentlyWrong(EvaluationResult test, int count) =>
        Enumerable.Range(0, test.Count)
            .Where(i => test.Predictions[i] != test.TrueLabels[i])
            .OrderByDescending(i => test.Confidences[i])
            .Take(count);

    static IReadOnlyList<SampleImage> Samples(EvaluationResult test, ImageDataset images, IEnumerable<int> indices)
    {
        var chosen = indices.ToArray();
        if (chosen.Length == 0) return [];
        using var scope = torch.NewDisposeScope();
        var index = torch.tensor(chosen.Select(i => (long)i).ToArray());
        var bytes = images.Images.index_select(0, index.to(images.Images.device)).cpu().contiguous().data<byte>().ToArray();
        int size = SampleImage.ByteCount;
        return chosen.Select((i, k) => new SampleImage(bytes[(k * size)..((k + 1) * size)], test.TrueLabels[i],
                                                       test.Predictions[i], test.Confidences[i])).ToList();
    }
}
