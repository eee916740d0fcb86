using System.Text.RegularExpressions;
using Cifar10.Reporting;
using Xunit;

namespace Cifar10.Tests.Reporting;

public class SweepReportTests
{
    /// <summary>Trials whose run folders hold a report.html (a stub is enough for linking).</summary>
    private static List<SweepTrial> Trials(TempDirectory directory, params (string Name, (string Key, string Value)[] Settings)[] specs) =>
        specs.Select((spec, i) =>
        {
            var runDir = directory.Combine("sweep", "runs", spec.Name);
            Directory.CreateDirectory(runDir);
            File.WriteAllText(Path.Combine(runDir, "report.html"), "<!DOCTYPE html><title>trial</title>");
            var epochs = SyntheticReportData.Epochs(4 + i, withValidation: true, new Random(i));
            return new SweepTrial(spec.Name, spec.Settings.Select(s => new KeyValuePair<string, string>(s.Key, s.Value)).ToList(),
                runDir, epochs, i == 1 ? null : 0.8 + i * 0.01, 100 + i);
        }).ToList();

    [Fact]
    public void SingleSettingSweepWritesTablesChartsAndLinkedIndex()
    {
        using var directory = new TempDirectory();
        var trials = Trials(directory, ("lr 0.01", [("lr", "0.01")]), ("lr 0.1", [("lr", "0.1")]), ("lr 1", [("lr", "1")]));
        var sweepDir = directory.Combine("sweep");
        var files = SweepReport.Write(sweepDir, "lr", trials);

        string[] expected = ["results.csv", "results.md", "validation_curves.png", "accuracy_vs_lr.png", "index.html"];
        Assert.Equal(expected.Order(), files.Select(Path.GetFileName).Order());
        ReportAssert.ValidPngFile(Path.Combine(sweepDir, "validation_curves.png"));
        ReportAssert.ValidPngFile(Path.Combine(sweepDir, "accuracy_vs_lr.png"));
        ReportAssert.NoTemporaryFiles(sweepDir);

        var csv = File.ReadAllLines(Path.Combine(sweepDir, "results.csv"));
        Assert.Equal("trial,lr,best_val_acc,best_val_epoch,test_acc,seconds", csv[0]);
        Assert.Equal(trials.Count, csv.Length - 1);
        Assert.Equal(trials.Select(t => t.Name), csv.Skip(1).Select(l => l.Split(',')[0]));
        Assert.Contains(",NaN,", csv[2]); // the trial without a test accuracy

        var markdownRows = File.ReadAllLines(Path.Combine(sweepDir, "results.md"))
            .Where(l => l.StartsWith("| ") && !l.StartsWith("| ---")).ToList();
        Assert.Equal(trials.Count + 1, markdownRows.Count); // header + one per trial

        var html = File.ReadAllText(Path.Combine(sweepDir, "index.html"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        var links = Regex.Matches(html, "href=\"([^\"]*)\"").Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).ToList();
        Assert.Equal(trials.Select(t => $"runs/{t.Name}/report.html"), links);
        Assert.All(links, link => Assert.True(File.Exists(Path.Combine(sweepDir, link)), link));
        Assert.Equal(2, Regex.Matches(html, "src=\"data:image/png;base64,").Count);
    }

    [Fact]
    public void SeveralSettingsPlotByTrialNameAndEscapeText()
    {
        using var directory = new TempDirectory();
        var trials = Trials(directory,
            ("a<b>", [("lr", "0.1"), ("wd", "5e-4")]),
            ("c&d", [("lr", "0.05"), ("wd", "1e-3")]));
        var sweepDir = directory.Combine("sweep");
        var files = SweepReport.Write(sweepDir, "lr,wd", trials);

        Assert.Contains(files, f => Path.GetFileName(f) == "accuracy_vs_lr_wd.png");
        ReportAssert.ValidPngFile(Path.Combine(sweepDir, "accuracy_vs_lr_wd.png"));
        Assert.Equal("trial,lr,wd,best_val_acc,best_val_epoch,test_acc,seconds", File.ReadLines(Path.Combine(sweepDir, "results.csv")).First());
        var html = File.ReadAllText(Path.Combine(sweepDir, "index.html"));
        Assert.Contains("a&lt;b&gt;", html);
        Assert.Contains("c&amp;d", html);
        Assert.DoesNotContain("<b>", html);
    }

    [Fact]
    public void TrialWithoutAReportIsListedWithoutALink()
    {
        using var directory = new TempDirectory();
        var trials = Trials(directory, ("done", [("lr", "0.1")]), ("crashed", [("lr", "9")]));
        File.Delete(Path.Combine(trials[1].RunDir, "report.html"));
        SweepReport.Write(directory.Combine("sweep"), "lr", trials);
        var html = File.ReadAllText(directory.Combine("sweep", "index.html"));
        Assert.Single(Regex.Matches(html, "href=\""));
        Assert.Contains("crashed", html);
        Assert.Contains("(no report)", html);
    }
}
