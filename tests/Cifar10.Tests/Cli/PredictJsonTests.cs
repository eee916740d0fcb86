using System.Text.Json;
using Cifar10.Cli.Commands;
using Xunit;
using Answer = Cifar10.Prediction.Prediction;

namespace Cifar10.Tests.Cli;

public class PredictJsonTests
{
    [Fact]
    public void AProbabilityThatIsNotANumberIsNullAsInTheToolkitsFiles()
    {
        var line = JsonSerializer.Serialize(PredictCommand.Json(new Answer("a.png", [new("cat", double.NaN), new("dog", 0.12345678)], null)));
        Assert.Equal("""{"path":"a.png","top":[{"class":"cat","probability":null},{"class":"dog","probability":0.123457}]}""", line);
    }
}
