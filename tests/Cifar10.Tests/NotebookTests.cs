using System.Text.Json;
using Xunit;

namespace Cifar10.Tests;

/// <summary>
/// The notebooks of notebooks/ as committed: without outputs (CI executes them into a temporary folder with
/// scripts/run-notebooks.sh, which is where their outputs belong), for the .NET kernel, each taking the library from
/// the package and the shared helpers from Helpers.csx, and each naming the recipe that reproduces its write-up.
/// </summary>
public class NotebookTests
{
    static readonly string Folder = Path.Combine(Cli.CliReferenceTests.RepositoryRoot(), "notebooks");

    /// <summary>One notebook per write-up, and the recipe that trains its setup in full.</summary>
    public static TheoryData<string, string> Notebooks => new()
    {
        { "pytorch-tutorial.ipynb", "pytorch-tutorial" },
        { "simple-deep-resnet18.ipynb", "simple-deep-writeup" },
        { "vgg16-experiments.ipynb", "vgg16-writeup" },
        { "wide-net.ipynb", "wide-writeup" },
    };

    [Fact]
    public void EveryNotebookIsListed()
    {
        var listed = Notebooks.Select(row => (string)row[0]).Order();
        Assert.Equal(listed, Directory.GetFiles(Folder, "*.ipynb").Select(Path.GetFileName).Order());
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void IsCommittedWithoutOutputs(string notebook, string _)
    {
        foreach (var cell in Cells(notebook).Where(c => c.GetProperty("cell_type").GetString() == "code"))
        {
            Assert.Empty(cell.GetProperty("outputs").EnumerateArray());
            Assert.Equal(JsonValueKind.Null, cell.GetProperty("execution_count").ValueKind);
        }
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void RunsInTheDotNetKernelOnThePackage(string notebook, string _)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, notebook)));
        Assert.Equal(".net-csharp", document.RootElement.GetProperty("metadata").GetProperty("kernelspec").GetProperty("name").GetString());
        var code = Source(notebook, "code");
        Assert.Contains("#r \"nuget: Cifar10.Core, *-*\"", code);
        Assert.Contains("#load \"Helpers.csx\"", code);
        Assert.Contains("CIFAR10_NOTEBOOK_IMAGES", code);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void NamesTheRecipeOfItsWriteUp(string notebook, string recipe)
    {
        Assert.Contains($"`{recipe}`", Source(notebook, "markdown"));
    }

    static List<JsonElement> Cells(string notebook)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, notebook)));
        return document.RootElement.GetProperty("cells").EnumerateArray().Select(c => c.Clone()).ToList();
    }

    static string Source(string notebook, string cellType) =>
        string.Join("\n", Cells(notebook)
            .Where(c => c.GetProperty("cell_type").GetString() == cellType)
            .Select(c => string.Concat(c.GetProperty("source").EnumerateArray().Select(line => line.GetString()))));
}
