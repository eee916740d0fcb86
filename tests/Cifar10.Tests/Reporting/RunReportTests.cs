using System.Globalization;
using System.Text.RegularExpressions;
using Cifar10.Reporting;
using Xunit;

namespace Cifar10.Tests.Reporting;

/// <summary>One synthetic report, written once and inspected by every test in <see cref="RunReportTests"/>.</summary>
public sealed class WrittenRunReport : IDisposable
{
    public TempDirectory Directory { get; } = new();
    public RunReportData Data { get; } = SyntheticReportData.Run();
    public IReadOnlyList<string> Files { get; }
    public string RunDir => Directory.Combine("run");
    public string Html => File.ReadAllText(Path.Combine(RunDir, "report.html"));

    public WrittenRunReport() => Files = RunReport.Write(RunDir, Data);

    public void Dispose() => Directory.Dispose();
}

public class RunReportTests(WrittenRunReport report) : IClassFixture<WrittenRunReport>
{
    private static readonly string[] ExpectedPngs =
        ["loss.png", "accuracy.png", "lr.png", "confusion_matrix.png", "per_class_accuracy.png", "samples.png", "confidently_wrong.png"];

    private static readonly string[] ExpectedFiles =
        [.. ExpectedPngs, "confusion_matrix.csv", "per_class_accuracy.csv", "report.html"];

    [Fact]
    public void WritesAndReturnsEveryFileAndNothingElse()
    {
        Assert.Equal(ExpectedFiles.Order(), report.Files.Select(Path.GetFileName).Order());
        Assert.All(report.Files, f => Assert.True(File.Exists(f), f));
        Assert.Equal(ExpectedFiles.Order(), Directory.GetFiles(report.RunDir).Select(Path.GetFileName).Order());
        ReportAssert.NoTemporaryFiles(report.RunDir);
    }

    [Theory]
    [MemberData(nameof(PngNames))]
    public void EveryPlotIsAValidPng(string name) => ReportAssert.ValidPngFile(Path.Combine(report.RunDir, name));

    public static TheoryData<string> PngNames() => new(ExpectedPngs);

    [Fact]
    public void HtmlIsASelfContainedPageNamingEveryClass()
    {
        var html = report.Html;
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.EndsWith("</html>", html.TrimEnd());
        Assert.Contains(report.Data.RunName, html);
        foreach (var name in report.Data.ClassNames) Assert.Contains(name, html);
        foreach (var (key, value) in report.Data.Config) Assert.Contains(System.Net.WebUtility.HtmlEncode(value), html);

        // Every src/href is an embedded PNG: nothing to fetch from the network or from beside the file.
        var references = Regex.Matches(html, "(?:src|href)\\s*=\\s*\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(ExpectedPngs.Length, references.Count);
        Assert.All(references, r => Assert.StartsWith("data:image/png;base64,", r));
        foreach (var reference in references)
            ReportAssert.ValidPng(Convert.FromBase64String(reference["data:image/png;base64,".Length..]), "embedded image");
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void HtmlShowsTheHeadlineNumbersAsPercentages()
    {
        var html = report.Html;
        Assert.Contains((report.Data.TestAccuracy * 100).ToString("F2", CultureInfo.InvariantCulture) + "%", html);
        var best = report.Data.Epochs.MaxBy(m => m.ValAccuracy)!;
        Assert.Contains((best.ValAccuracy * 100).ToString("F2", CultureInfo.InvariantCulture) + "%", html);
        Assert.Contains($"epoch {best.Epoch}", html);
    }

    [Fact]
    public void TheResultsComeFirstAndTheConfigurationLastFolded()
    {
        var html = report.Html;
        int Position(string text)
        {
            int at = html.IndexOf(text, StringComparison.Ordinal);
            Assert.True(at >= 0, $"no {text}");
            return at;
        }
        var order = new[] { "Test accuracy", "<h2>Training", "Loss per epoch", "<h2>Test set", "Accuracy per class", "Most confident wrong predictions",
                            "Configuration" }.Select(Position).ToList();
        Assert.Equal(order.Order(), order);
        // The settings table sits folded in a <details> after every result.
        var details = html.LastIndexOf("<details>", StringComparison.Ordinal);
        Assert.True(details < html.IndexOf("<th>Setting</th>", StringComparison.Ordinal));
        Assert.True(html.IndexOf("</details>", details, StringComparison.Ordinal) > html.IndexOf("<th>Setting</th>", StringComparison.Ordinal));
        Assert.True(Position("Configuration") > Position("<h2>Predictions"));
    }

    [Fact]
    public void ConfusionCsvMatchesTheMatrixAndTotalsTheTestSet()
    {
        var lines = File.ReadAllLines(Path.Combine(report.RunDir, "confusion_matrix.csv"));
        var names = report.Data.ClassNames;
        Assert.Equal("true\\predicted," + string.Join(',', names), lines[0]);
        Assert.Equal(names.Count + 1, lines.Length);
        var total = 0;
        for (var row = 0; row < names.Count; row++)
        {
            var fields = lines[row + 1].Split(',');
            Assert.Equal(names[row], fields[0]);
            var counts = fields.Skip(1).Select(int.Parse).ToArray();
            Assert.Equal(Enumerable.Range(0, names.Count).Select(c => report.Data.Confusion[row, c]), counts);
            total += counts.Sum();
        }
        Assert.Equal(SyntheticReportData.ImagesPerClass * names.Count, total);
    }

    [Fact]
    public void PerClassCsvAgreesWithTheConfusionMatrix()
    {
        var lines = File.ReadAllLines(Path.Combine(report.RunDir, "per_class_accuracy.csv"));
        Assert.Equal("class,correct,total,accuracy", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(report.Data.ClassNames, rows.Select(r => r[0]));
        var correctSum = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var (correct, total, accuracy) = (int.Parse(rows[i][1]), int.Parse(rows[i][2]),
                double.Parse(rows[i][3], CultureInfo.InvariantCulture));
            Assert.Equal(report.Data.Confusion[i, i], correct);
            Assert.Equal(SyntheticReportData.ImagesPerClass, total);
            Assert.Equal((double)correct / total, accuracy);
            correctSum += correct;
        }
        Assert.Equal(report.Data.TestAccuracy, (double)correctSum / (SyntheticReportData.ImagesPerClass * rows.Count), precision: 12);
    }
}

/// <summary>Reports from unusual data: each test writes its own report.</summary>
public class RunReportEdgeCaseTests
{
    [Fact]
    public void TextIsHtmlEscaped()
    {
        using var directory = new TempDirectory();
        var data = SyntheticReportData.Run("evil <script>alert('x')</script> & co", epochs: 2) with
        {
            Config = [new("note", "\"quoted\" <b>bold</b>"), new("a<b", "1 & 2")],
        };
        RunReport.Write(directory.Path, data);
        var html = File.ReadAllText(directory.Combine("report.html"));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>bold", html);
        Assert.Contains("evil &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co", html);
        Assert.Contains("&quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt;", html);
        Assert.Contains("a&lt;b", html);
        Assert.Contains("1 &amp; 2", html);
    }

    [Fact]
    public void RunWithoutValidationSetIsReportedNotRejected()
    {
        using var directory = new TempDirectory();
        var data = SyntheticReportData.Run(epochs: 5, withValidation: false);
        var files = RunReport.Write(directory.Path, data);
        Assert.Equal(10, files.Count);
        Assert.All(files.Where(f => f.EndsWith(".png")), f => ReportAssert.ValidPngFile(f));
        Assert.Contains("no validation set", File.ReadAllText(directory.Combine("report.html")));
    }

    [Fact]
    public void RunWithNoEpochsStepsOrSamplesStillWritesEveryFile()
    {
        using var directory = new TempDirectory();
        var data = SyntheticReportData.Run(epochs: 0) with { LearningRates = [], Samples = [], ConfidentlyWrong = [] };
        var files = RunReport.Write(directory.Path, data);
        Assert.Equal(10, files.Count);
        Assert.All(files.Where(f => f.EndsWith(".png")), f => ReportAssert.ValidPngFile(f));
        Assert.Contains("No epochs were recorded", File.ReadAllText(directory.Combine("report.html")));
    }

    [Fact]
    public void WritingAgainReplacesTheFilesAndLeavesNoTemporaries()
    {
        using var directory = new TempDirectory();
        RunReport.Write(directory.Path, SyntheticReportData.Run("run-alpha", epochs: 2));
        RunReport.Write(directory.Path, SyntheticReportData.Run("run-omega", epochs: 2));
        var html = File.ReadAllText(directory.Combine("report.html"));
        Assert.Contains("run-omega", html);
        Assert.DoesNotContain("run-alpha", html);
        ReportAssert.NoTemporaryFiles(directory.Path);
    }

    [Fact]
    public void TheTestFiguresSayHowTheyWereMeasuredAndTheTensorBoardFolderIsLinked()
    {
        using var directory = new TempDirectory();
        var data = SyntheticReportData.Run(epochs: 1) with { TestMeasurement = "best, epoch 1, TTA", TensorBoardFolder = "tensorboard" };
        RunReport.Write(directory.Path, data);
        var html = File.ReadAllText(directory.Combine("report.html"));
        Assert.Contains("best, epoch 1, TTA", html);
        Assert.Contains("<a href=\"tensorboard\">tensorboard/</a>", html);
        Assert.Contains("tensorboard --logdir tensorboard", html);
        // A report of a run without TensorBoard events links nothing.
        RunReport.Write(directory.Path, data with { TensorBoardFolder = null });
        Assert.DoesNotContain("<a href", File.ReadAllText(directory.Combine("report.html")));
    }

    [Fact]
    public void OneEpochIsOneEpoch()
    {
        using var directory = new TempDirectory();
        RunReport.Write(directory.Path, SyntheticReportData.Run(epochs: 1));
        var html = File.ReadAllText(directory.Combine("report.html"));
        Assert.Contains("1 epoch,", html);
        Assert.DoesNotContain("1 epochs", html);
    }

    [Fact]
    public void ConfusionMatrixThatDoesNotMatchTheClassesIsRejected()
    {
        using var directory = new TempDirectory();
        var data = SyntheticReportData.Run(epochs: 1) with { Confusion = new int[9, 10] };
        Assert.Throws<ArgumentException>(() => RunReport.Write(directory.Path, data));
    }
}
