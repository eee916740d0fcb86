using System.Globalization;
using System.Text;

namespace Cifar10.Reporting;

/// <summary>The few CSV rules every reporting file shares: invariant culture, round-trippable numbers and
/// RFC 4180 quoting for text that contains separators.</summary>
internal static class Csv
{
    // "R" gives the shortest string that parses back to the identical double; NaN is written as "NaN".
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static double ParseDouble(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static long ParseLong(string text) => long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    public static string Field(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    public static string Line(IEnumerable<string> fields) => string.Join(',', fields.Select(Field)) + "\n";

    public static string Document(IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows)
    {
        var text = new StringBuilder(Line(header));
        foreach (var row in rows) text.Append(Line(row));
        return text.ToString();
    }

    /// <summary>Reads a numeric CSV written by this toolkit: checks the header and turns each data row (split on
    /// commas: numbers never need quoting) into a <typeparamref name="T"/>. Blank lines are ignored. Any bad line is a
    /// <see cref="FormatException"/> naming the file and the line.</summary>
    public static IReadOnlyList<T> ReadNumericRows<T>(string path, string expectedHeader, Func<string[], T> parse)
    {
        var columnCount = expectedHeader.Split(',').Length;
        using var reader = new StreamReader(path);
        var header = reader.ReadLine();
        if (header != expectedHeader)
            throw new FormatException($"{path}: expected header '{expectedHeader}' but found '{header}'.");
        var rows = new List<T>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var fields = line.Split(',');
            if (fields.Length != columnCount)
                throw new FormatException($"{path}:{lineNumber}: expected {columnCount} fields but found {fields.Length}.");
            try
            {
                rows.Add(parse(fields));
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                throw new FormatException($"{path}:{lineNumber}: {e.Message}", e);
            }
        }
        return rows;
    }
}
