using System.Net;
using System.Text;

namespace Cifar10.Reporting;

/// <summary>
/// A piece of HTML markup. Plain strings convert to it implicitly and are escaped on the way, so text can only
/// reach a page unescaped through the deliberate factory methods below.
/// </summary>
internal readonly record struct Html(string Markup)
{
    public static readonly Html Empty = new("");

    public static implicit operator Html(string text) => new(WebUtility.HtmlEncode(text));

    public override string ToString() => Markup;

    public static Html Join(params Html[] parts) => new(string.Concat(parts.Select(p => p.Markup)));

    public static Html Element(string tag, Html content, string? cssClass = null) =>
        new($"<{tag}{ClassAttribute(cssClass)}>{content.Markup}</{tag}>");

    /// <summary>An image whose bytes travel inside the page, so the report opens from disk with nothing beside it.</summary>
    public static Html EmbeddedPng(string pngPath, string altText) =>
        new($"<img src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(pngPath))}\" alt=\"{WebUtility.HtmlEncode(altText)}\">");

    /// <summary>A link to another file by relative path; each path segment is percent-encoded.</summary>
    public static Html RelativeLink(string relativePath, Html text)
    {
        var url = string.Join('/', relativePath.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString));
        return new($"<a href=\"{WebUtility.HtmlEncode(url)}\">{text.Markup}</a>");
    }

    /// <summary>Content folded under a one-line summary the reader clicks to open.</summary>
    public static Html Details(Html summary, Html content) =>
        new($"<details><summary>{summary.Markup}</summary>{content.Markup}</details>");

    /// <summary>A table with one header row. <paramref name="rowClass"/> may pick a CSS class per row (or null).</summary>
    public static Html Table(IEnumerable<Html> headers, IEnumerable<IReadOnlyList<Html>> rows,
        Func<int, string?>? rowClass = null, string? cssClass = null)
    {
        var table = new StringBuilder($"<table{ClassAttribute(cssClass)}><thead><tr>");
        foreach (var header in headers) table.Append("<th>").Append(header.Markup).Append("</th>");
        table.Append("</tr></thead><tbody>\n");
        var index = 0;
        foreach (var row in rows)
        {
            table.Append($"<tr{ClassAttribute(rowClass?.Invoke(index++))}>");
            foreach (var cell in row) table.Append("<td>").Append(cell.Markup).Append("</td>");
            table.Append("</tr>\n");
        }
        return new(table.Append("</tbody></table>").ToString());
    }

    /// <summary>A complete page with its stylesheet inline: no external CSS, scripts or fonts.</summary>
    public static string Page(string title, Html body) => $"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{WebUtility.HtmlEncode(title)}</title>
        <style>
        {Stylesheet}
        </style>
        </head>
        <body>
        {body.Markup}
        </body>
        </html>

        """;

    private static string ClassAttribute(string? cssClass) =>
        cssClass is null ? "" : $" class=\"{WebUtility.HtmlEncode(cssClass)}\"";

    private const string Stylesheet = """
        body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1d1d1f;
               max-width: 1240px; margin: 0 auto; padding: 16px 24px 48px; line-height: 1.4; }
        h1 { font-size: 1.7em; margin-bottom: 0.2em; word-break: break-word; }
        h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .subtitle { color: #666; margin-top: 0; }
        .cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
        .card { border: 1px solid #ddd; border-radius: 8px; padding: 10px 16px; min-width: 170px; background: #fafafa; }
        .card .label { font-size: 0.85em; color: #666; }
        .card .value { font-size: 1.5em; font-weight: 600; }
        .card .detail { font-size: 0.85em; color: #666; }
        .plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 900px), 1fr)); gap: 16px; }
        figure { margin: 0; }
        figure img, .wide img { max-width: 100%; height: auto; border: 1px solid #eee; }
        figcaption { font-size: 0.9em; color: #555; }
        table { border-collapse: collapse; margin: 8px 0; font-size: 0.92em; }
        th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; }
        th { background: #f2f2f2; }
        table.numeric td { text-align: right; font-variant-numeric: tabular-nums; }
        table.numeric td:first-child { text-align: left; font-weight: 600; }
        tr.best td { background: #e8f5e9; font-weight: 600; }
        .note { color: #8a6d00; background: #fff8e1; border: 1px solid #f0e0a0; padding: 6px 10px; border-radius: 6px; }
        .scroll { overflow-x: auto; }
        details { margin: 8px 0; }
        summary { cursor: pointer; font-weight: 600; }
        code { background: #f2f2f2; padding: 1px 4px; border-radius: 4px; }
        """;
}
