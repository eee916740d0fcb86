using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using Cifar10.Cli;
using Cifar10.Tests.Cli;
using Cifar10.Tests.Data;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests;

/// <summary>
/// README.md is the guide a newcomer follows to the letter: its first command and the smoke run it names are
/// command lines the tool accepts as written, its test command is the one CI runs, it stays short, and its links
/// lead to files and headings that exist. The command examples of the guide and of docs/cli.md parse too.
/// </summary>
public class ReadmeTests
{
    const string RunFromRepository = "dotnet run -c Release --project src/Cifar10.Cli -- ";
    const string InstalledTool = "cifar10 ";
    const string TestCommand = "dotnet test Cifar10.sln -c Release";
    const string DataInTheGuide = "../shared/data/cifar-10-binary.tar.gz";
    const int MostLines = 250;

    /// <summary>The files whose links are checked: the guide and the docs it leads to that this repository owns.</summary>
    static readonly string[] LinkedDocuments = ["README.md", "docs/cli.md", "docs/results.md", "docs/benchmarks.md", "docs/design.md"];

    static readonly string Root = CliReferenceTests.RepositoryRoot();

    static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    [Fact]
    public void TheFirstCommandTrainsWithOptionsTheToolAccepts()
    {
        var first = BashBlocks(Read("README.md"))[0];
        Assert.StartsWith(RunFromRepository + "train ", first[0]);
        AssertAccepted(first[0][RunFromRepository.Length..]);
    }

    [Fact]
    public void TheSecondCommandIsTheTestCommandCiRuns()
    {
        var first = BashBlocks(Read("README.md"))[0];
        Assert.Equal(2, first.Count);
        Assert.Equal(TestCommand, first[1]);
        Assert.Contains(Read(".ci/run").Split('\n'), line => line.Trim().StartsWith(TestCommand + " ", StringComparison.Ordinal));
    }

    [Fact]
    public void TheSmokeRunTheReadmeNamesIsATrainCommandTheToolAccepts()
    {
        var smoke = Assert.Single(BashBlockAfterHeading(Read("README.md"), "smoke run"));
        Assert.StartsWith(RunFromRepository + "train ", smoke);
        AssertAccepted(smoke[RunFromRepository.Length..]);
    }

    [Fact]
    public void TheReadmeIsAGuideOfAtMost250Lines() =>
        Assert.InRange(File.ReadAllLines(Path.Combine(Root, "README.md")).Length, 1, MostLines);

    [Fact]
    public void EveryCommandExampleOfTheGuideAndOfTheCliDocsIsAccepted()
    {
        var examples = new[] { "README.md", "docs/cli.md" }
            .SelectMany(file => BashBlocks(Read(file)).SelectMany(block => block))
            .Select(WithoutComment)
            // A launcher's line (mpirun -n 2 ... cifar10 train ...): the tool's part is checked.
            .Select(line => Regex.Match(line, @"^(?:mpirun|srun) .*? (cifar10 .*)$") is { Success: true } launched ? launched.Groups[1].Value : line)
            // Placeholders ([--tta], <md5>, ...) and continued lines are not meant to be typed as they are.
            .Where(line => line.StartsWith(InstalledTool, StringComparison.Ordinal) && !Regex.IsMatch(line, @"[\[<]|\.\.\.|\\$"))
            .ToList();
        Assert.NotEmpty(examples);
        foreach (var example in examples) AssertAccepted(example[InstalledTool.Length..]);
    }

    [Fact]
    public void EveryRelativeLinkLeadsToAFileAndEveryAnchorToAHeading()
    {
        var broken = new List<string>();
        foreach (var document in LinkedDocuments)
        {
            var folder = Path.GetDirectoryName(Path.Combine(Root, document))!;
            foreach (Match link in Regex.Matches(Read(document), @"\]\(([^)\s]+)\)"))
            {
                var target = link.Groups[1].Value;
                if (Regex.IsMatch(target, "^[a-z]+:")) continue; // https:, mailto:
                var (path, anchor) = target.IndexOf('#') is var hash and >= 0 ? (target[..hash], target[(hash + 1)..]) : (target, "");
                var file = path.Length == 0 ? Path.Combine(Root, document) : Path.GetFullPath(Path.Combine(folder, path));
                if (!File.Exists(file) && !Directory.Exists(file)) broken.Add($"{document}: {target} (no such file)");
                else if (anchor.Length > 0 && !(file.EndsWith(".md") && Anchors(File.ReadAllText(file)).Contains(anchor)))
                    broken.Add($"{document}: {target} (no such heading)");
            }
        }
        Assert.Empty(broken);
    }

    /// <summary>Parses a command line (without the program's name) as the tool does, and resolves the training
    /// settings it gives as `train` would: a misspelt option, a value out of range or a setting that does not
    /// apply fails here, not in front of a reader.</summary>
    static void AssertAccepted(string commandLine)
    {
        Assert.DoesNotContain('"', commandLine); // split on spaces below
        var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                              .Select(arg => arg == DataInTheGuide ? RealData.ArchivePath : arg).ToArray();
        var root = Program.BuildRoot(new CliConsole(TextWriter.Null, TextWriter.Null, false, CancellationToken.None));
        var parsed = root.Parse(args);
        Assert.True(parsed.Errors.Count == 0, $"`{commandLine}`: {string.Join("; ", parsed.Errors.Select(e => e.Message))}");
        var settings = parsed.CommandResult.Children.OfType<OptionResult>()
            .Where(option => !option.Implicit && TrainSettings.All.Any(s => "--" + s.Name == option.Option.Name))
            .Select(option => new KeyValuePair<string, string>(option.Option.Name[2..],
                option.Tokens.Count == 0 ? "true" : string.Join(" ", option.Tokens.Select(t => t.Value))))
            .ToList();
        try
        {
            TrainSettings.Resolve(settings);
        }
        catch (ConfigException e)
        {
            Assert.Fail($"`{commandLine}`: {e.Message}");
        }
    }

    /// <summary>The lines of every ```bash block, in order.</summary>
    static List<List<string>> BashBlocks(string markdown)
    {
        var blocks = new List<List<string>>();
        List<string>? current = null;
        foreach (var line in markdown.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (current is null && line == "```bash") blocks.Add(current = []);
            else if (current is not null && line.StartsWith("```", StringComparison.Ordinal)) current = null;
            else if (current is not null && line.Trim().Length > 0) current.Add(line.Trim());
        }
        return blocks;
    }

    /// <summary>The first ```bash block under the first heading that mentions <paramref name="words"/>.</summary>
    static List<string> BashBlockAfterHeading(string markdown, string words)
    {
        var heading = Regex.Match(markdown, $@"^#+ .*{Regex.Escape(words)}.*$", RegexOptions.Multiline | RegexOptions.IgnoreCase);
        Assert.True(heading.Success, $"README.md has no heading about the {words}");
        return BashBlocks(markdown[heading.Index..])[0];
    }

    static string WithoutComment(string line) => line.IndexOf(" #", StringComparison.Ordinal) is var at and >= 0 ? line[..at].TrimEnd() : line;

    /// <summary>The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces to '-'.</summary>
    static HashSet<string> Anchors(string markdown) =>
        Regex.Matches(markdown, @"^#+ (.+)$", RegexOptions.Multiline)
             .Select(m => Regex.Replace(m.Groups[1].Value.Trim().ToLowerInvariant(), @"[^\p{L}\p{Nd} _-]", "").Replace(' ', '-'))
             .ToHashSet();
}
