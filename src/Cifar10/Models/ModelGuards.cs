namespace Cifar10.Models;

/// <summary>Argument checks shared by the network constructors, so every model fails the same way.</summary>
internal static class ModelGuards
{
    internal static void RequireClasses(int numClasses)
    {
        if (numClasses < 1)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "the number of classes must be at least 1");
    }

    /// <summary>Dropout probability p must lie in [0, 1): p = 1 would zero every activation. The one rule, used by
    /// the constructors and by the dropout setting (which is checked before any network exists).</summary>
    public static string? DropoutProblem(double p) =>
        p is >= 0.0 and < 1.0 ? null : $"dropout probability must be in [0, 1), got {p.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    internal static void RequireDropout(double p, string paramName)
    {
        if (DropoutProblem(p) is { } problem) throw new ArgumentOutOfRangeException(paramName, p, problem);
    }
}
