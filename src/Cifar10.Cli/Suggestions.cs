using System.CommandLine;
using System.Text.RegularExpressions;

namespace Cifar10.Cli;

/// <summary>"did you mean --epochs?" for a mistyped option or command: the closest name the command takes.</summary>
static partial class Suggestions
{
    [GeneratedRegex("^Unrecognized command or argument '(?<token>[^']+)'")]
    private static partial Regex Unrecognized();

    /// <summary>"; did you mean --epochs?" when <paramref name="message"/> names an unknown token close to one of
    /// <paramref name="command"/>'s options or subcommands, else "".</summary>
    public static string ForUnrecognized(string message, Command command)
    {
        var match = Unrecognized().Match(message);
        if (!match.Success) return "";
        var token = match.Groups["token"].Value;
        var candidates = token.StartsWith('-')
            ? command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--"))
            : command.Subcommands.Select(c => c.Name);
        var closest = Closest(token.Split('=')[0], candidates);
        return closest is null ? "" : $"; did you mean {closest}?";
    }

    /// <summary>The candidate at the smallest edit distance, if that distance is small for the word's length.</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        int allowed = Math.Max(1, word.TrimStart('-').Length / 3);
        return candidates.Select(c => (Name: c, Distance: EditDistance(word, c)))
                         .Where(c => c.Distance <= allowed)
                         .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
                         .Select(c => c.Name).FirstOrDefault();
    }

    /// <summary>Insertions, deletions, substitutions and swaps of neighbours ("trian" is one from "train").</summary>
    static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j], d[i, j - 1]) + 1, d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
