using Cifar10.Reporting;
using Xunit;

namespace Cifar10.Tests.Reporting;

public class HtmlTests
{
    [Fact]
    public void PlainTextIsEscapedWhenItBecomesMarkup()
    {
        Html text = "<script>alert(\"x\") & 'y'</script>";
        Assert.Equal("&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;", text.Markup);
        Assert.Equal("<p class=\"note\">a &lt; b</p>", Html.Element("p", "a < b", "note").Markup);
    }

    [Fact]
    public void RelativeLinksArePercentEncodedPerSegment()
    {
        var link = Html.RelativeLink("runs/lr 0.1&x/report.html", "lr <0.1>");
        Assert.Equal("<a href=\"runs/lr%200.1%26x/report.html\">lr &lt;0.1&gt;</a>", link.Markup);
    }
}
