namespace Cifar10.Reporting;

/// <summary>The markup of a sweep's index.html: results table with links to each trial's report, then the charts.</summary>
internal static class SweepIndexPage
{
    public static string Render(string sweepDir, string settingNames, IReadOnlyList<TrialRow> rows,
        IReadOnlyList<string> settingKeys, Html validationCurves, Html accuracyChart)
    {
        var best = rows.Where(r => r.Best is not null).MaxBy(r => r.Best!.Accuracy);
        var body = Html.Join(
            Html.Element("h1", $"CIFAR-10 sweep: {settingNames}"),
            Html.Element("p", $"{rows.Count} trials" + (best is null ? "" : $"; best validation accuracy: {best.Trial.Name}, {best.BestValidationText}"),
                "subtitle"),
            Html.Element("h2", "Results"),
            rows.Count == 0 ? Html.Element("p", "No trials were run.", "note") : Html.Element("div", Html.Table(
                new Html[] { "Trial" }.Concat(settingKeys.Select(k => (Html)k))
                    .Concat(new Html[] { "Best val acc", "Test acc", "Time" }),
                rows.Select(r => new Html[] { TrialLink(sweepDir, r) }
                    .Concat(settingKeys.Select(k => (Html)r.SettingValue(k)))
                    .Concat(new Html[] { r.BestValidationText, DisplayFormat.Percent(r.Trial.TestAccuracy ?? double.NaN),
                        DisplayFormat.Duration(r.Trial.Seconds) }).ToList()),
                rowClass: i => ReferenceEquals(rows[i], best) ? "best" : null,
                cssClass: "numeric"), "scroll"),
            Html.Element("h2", "Charts"),
            Html.Element("div", Html.Join(Html.Element("figure", validationCurves), Html.Element("figure", accuracyChart)), "plots"));
        return Html.Page($"CIFAR-10 sweep: {settingNames}", body);
    }

    private static Html TrialLink(string sweepDir, TrialRow row)
    {
        var report = row.RelativeReportPath(sweepDir);
        return report is null
            ? Html.Join(row.Trial.Name, Html.Element("span", " (no report)", "subtitle"))
            : Html.RelativeLink(report, row.Trial.Name);
    }
}
