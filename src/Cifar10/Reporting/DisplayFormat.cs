using System.Globalization;

namespace Cifar10.Reporting;

/// <summary>How numbers look to a person (plots, HTML, Markdown). Invariant culture so reports read the same on
/// every machine; accuracies are stored as fractions but shown as percentages.</summary>
public static class DisplayFormat
{
    /// <summary>What a number that is not finite (no validation set, no measurement) shows as.</summary>
    public const string NotAvailable = "n/a";

    /// <summary>A fraction as a percentage: 0.9072 → "90.72%" (<paramref name="decimals"/> after the point).</summary>
    public static string Percent(double fraction, int decimals = 2) =>
        double.IsFinite(fraction)
            ? (fraction * 100).ToString("F" + decimals, CultureInfo.InvariantCulture) + "%"
            : NotAvailable;

    /// <summary>A number in <paramref name="format"/> (four significant digits by default), culture-invariant.</summary>
    public static string Number(double value, string format = "G4") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : NotAvailable;

    /// <summary>An integer with thousands separators: "50,000".</summary>
    public static string Integer(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A count with its noun, singular for one: "1 epoch", "30 epochs", "10,000 images" (the tool's
    /// messages and pages count only nouns with a plain -s plural).</summary>
    public static string Count(long count, string singular) => $"{Integer(count)} {singular}{(count == 1 ? "" : "s")}";

    /// <summary>"42.3 s", "12 min 05 s" or "2 h 03 min": precise for short runs, compact for long ones.</summary>
    public static string Duration(double seconds)
    {
        if (!double.IsFinite(seconds)) return NotAvailable;
        if (seconds < 60) return seconds.ToString("F1", CultureInfo.InvariantCulture) + " s";
        var time = TimeSpan.FromSeconds(Math.Round(seconds));
        return time.TotalHours >= 1
            ? $"{(int)time.TotalHours} h {time.Minutes:00} min"
            : $"{time.Minutes} min {time.Seconds:00} s";
    }
}

