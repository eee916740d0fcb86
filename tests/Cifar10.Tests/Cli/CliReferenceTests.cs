using Cifar10.Cli;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>docs/cli.md's reference is the tool's own commands and settings table.</summary>
public class CliReferenceTests
{
    [Fact]
    public void TheCliReferenceInDocsIsGeneratedFromTheCommandsAndTheSettingsTable()
    {
        var path = Path.Combine(RepositoryRoot(), "docs", "cli.md");
        var document = File.ReadAllText(path);
        var root = Program.BuildRoot(new CliConsole(TextWriter.Null, TextWriter.Null, false, CancellationToken.None));
        var expected = CliReference.Splice(document, CliReference.Markdown(root));
        if (expected != document && Environment.GetEnvironmentVariable("CIFAR10_UPDATE_DOCS") == "1")
            File.WriteAllText(path, document = expected);
        Assert.True(expected == document, $"{path} is stale: run CIFAR10_UPDATE_DOCS=1 dotnet test tests/Cifar10.Tests --filter CliReferenceTests");
    }

    [Fact]
    public void EverySettingAndEveryCommandIsInTheReference()
    {
        var root = Program.BuildRoot(new CliConsole(TextWriter.Null, TextWriter.Null, false, CancellationToken.None));
        var markdown = CliReference.Markdown(root);
        foreach (var setting in Cifar10.Training.TrainSettings.All) Assert.Contains($"`--{setting.Name}`", markdown);
        foreach (var command in root.Subcommands) Assert.Contains($"### cifar10 {command.Name}", markdown);
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cifar10.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Cifar10.sln above {AppContext.BaseDirectory}");
    }
}
