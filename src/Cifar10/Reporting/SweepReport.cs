using System.Text;
using System.Text.RegularExpressions;

namespace Cifar10.Reporting;

/// <summary>
/// Summarises a hyper-parameter sweep: a results table (CSV and Markdown), overlaid validation curves, an
/// accuracy-versus-setting chart and an index.html that links every trial's own report.
/// </summary>
internal static partial class SweepReport
{
    public const string HtmlFileName = "index.html";

    /// <summary>
    /// Writes the sweep files into <paramref name="sweepDir"/> and returns their full paths.
    /// <paramref name="settingNames"/> names what was swept (e.g. "lr" or "lr,weight_decay"); it titles the pages
    /// and names accuracy_vs_&lt;settingNames&gt;.png. When the trials vary a single setting, that chart's categories
    /// are its values; when they vary several, the categories are the trial names.
    /// </summary>
    public static IReadOnlyList<string> Write(string sweepDir, string settingNames, IReadOnlyList<SweepTrial> trials)
    {
        Directory.CreateDirectory(sweepDir);
        string PathOf(string name) => Path.GetFullPath(Path.Combine(sweepDir, name));
        var rows = trials.Select(t => new TrialRow(t, BestValidation.Of(t.Epochs))).ToList();
        var settingKeys = trials.SelectMany(t => t.Settings.Select(kv => kv.Key)).Distinct().ToList();
        var written = new List<string>();

        AtomicFile.WriteAllText(PathOf("results.csv"), ResultsCsv(rows, settingKeys));
        written.Add(PathOf("results.csv"));
        AtomicFile.WriteAllText(PathOf("results.md"), ResultsMarkdown(sweepDir, settingNames, rows, settingKeys));
        written.Add(PathOf("results.md"));

        var curvesFile = "validation_curves.png";
        Plots.OverlaidValidationCurves(PathOf(curvesFile), trials.Select(t => (t.Name, t.Epochs)).ToList());
        written.Add(PathOf(curvesFile));

        var accuracyFile = $"accuracy_vs_{SafeFileNamePart(settingNames)}.png";
        var singleSetting = settingKeys.Count == 1;
        Plots.AccuracyVersusValue(PathOf(accuracyFile), singleSetting ? settingKeys[0] : $"trial ({settingNames})",
            rows.Select(r => (singleSetting ? r.SettingValue(settingKeys[0]) : r.Trial.Name,
                r.Best?.Accuracy ?? double.NaN, r.Trial.TestAccuracy ?? double.NaN)).ToList());
        written.Add(PathOf(accuracyFile));

        AtomicFile.WriteAllText(PathOf(HtmlFileName), SweepIndexPage.Render(sweepDir, settingNames, rows, settingKeys,
            Html.EmbeddedPng(PathOf(curvesFile), "Validation accuracy per epoch, all trials"),
            Html.EmbeddedPng(PathOf(accuracyFile), $"Accuracy versus {settingNames}")));
        written.Add(PathOf(HtmlFileName));
        return written;
    }

    /// <summary>The results table as plain text with aligned columns, for a terminal or a log: one row per
    /// trial with its swept settings, best validation accuracy (and epoch), test accuracy and time.</summary>
    public static string Table(IReadOnlyList<SweepTrial> trials)
    {
        var rows = trials.Select(t => new TrialRow(t, BestValidation.Of(t.Epochs))).ToList();
        var settingKeys = trials.SelectMany(t => t.Settings.Select(kv => kv.Key)).Distinct().ToList();
        var table = new List<string[]> { new[] { "trial" }.Concat(settingKeys).Concat(["best val acc", "test acc", "time"]).ToArray() };
        table.AddRange(rows.Select(r => new[] { r.Trial.Name }.Concat(settingKeys.Select(r.SettingValue)).Concat([
            r.BestValidationText, DisplayFormat.Percent(r.Trial.TestAccuracy ?? double.NaN), DisplayFormat.Duration(r.Trial.Seconds)]).ToArray()));
        var widths = Enumerable.Range(0, table[0].Length).Select(c => table.Max(row => row[c].Length)).ToArray();
        return string.Join("\n", table.Select(row => string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd()));
    }

    private static string ResultsCsv(IReadOnlyList<TrialRow> rows, IReadOnlyList<string> settingKeys) =>
        Csv.Document(
            new[] { "trial" }.Concat(settingKeys).Concat(["best_val_acc", "best_val_epoch", "test_acc", "seconds"]),
            rows.Select(r => new[] { r.Trial.Name }.Concat(settingKeys.Select(r.SettingValue)).Concat([
                Csv.Number(r.Best?.Accuracy ?? double.NaN),
                r.Best is null ? "" : Csv.Number(r.Best.Epoch),
                Csv.Number(r.Trial.TestAccuracy ?? double.NaN),
                Csv.Number(r.Trial.Seconds)])));

    private static string ResultsMarkdown(string sweepDir, string settingNames, IReadOnlyList<TrialRow> rows,
        IReadOnlyList<string> settingKeys)
    {
        static string Cell(string text) => text.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");
        var headers = new[] { "Trial" }.Concat(settingKeys).Concat(["Best val acc", "Test acc", "Time"]);
        var text = new StringBuilder($"# Sweep: {Cell(settingNames)}\n\n");
        text.Append("| ").Append(string.Join(" | ", headers.Select(Cell))).Append(" |\n");
        text.Append('|').Append(string.Concat(headers.Select(_ => " --- |"))).Append('\n');
        foreach (var row in rows)
        {
            var report = row.RelativeReportPath(sweepDir);
            var name = report is null ? Cell(row.Trial.Name) : $"[{Cell(row.Trial.Name).Replace("]", "\\]")}](<{report}>)";
            var cells = new[] { name }.Concat(settingKeys.Select(k => Cell(row.SettingValue(k)))).Concat([
                row.BestValidationText, DisplayFormat.Percent(row.Trial.TestAccuracy ?? double.NaN),
                DisplayFormat.Duration(row.Trial.Seconds)]);
            text.Append("| ").Append(string.Join(" | ", cells)).Append(" |\n");
        }
        return text.ToString();
    }

    private static string SafeFileNamePart(string text)
    {
        var safe = UnsafeFileNameCharacters().Replace(text.Trim(), "_").Trim('_');
        return safe.Length == 0 ? "settings" : safe;
    }

    [GeneratedRegex("[^A-Za-z0-9_.-]+")]
    private static partial Regex UnsafeFileNameCharacters();
}

/// <summary>A trial with the figures every sweep output shows about it.</summary>
internal sealed record TrialRow(SweepTrial Trial, BestValidation? Best)
{
    public string SettingValue(string key) =>
        Trial.Settings.Where(kv => kv.Key == key).Select(kv => kv.Value).FirstOrDefault() ?? "";

    public string BestValidationText => Best is null
        ? DisplayFormat.NotAvailable
        : $"{DisplayFormat.Percent(Best.Accuracy)} (epoch {Best.Epoch})";

    /// <summary>The trial's report.html relative to the sweep folder, with '/' separators; null when it was not written.</summary>
    public string? RelativeReportPath(string sweepDir)
    {
        var report = Path.Combine(Trial.RunDir, RunReport.HtmlFileName);
        return File.Exists(report) ? Path.GetRelativePath(sweepDir, report).Replace('\\', '/') : null;
    }
}
