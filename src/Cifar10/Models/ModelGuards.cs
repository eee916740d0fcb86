namespace Cifar10.Models;

/// <summary>Argument checks shared by the network constructors, so every model fails the same way.</summary>
internal static class ModelGuards
{
    public static void RequireClasses(int numClasses)
    {
        if (numClasses < 1)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "the number of classes must be at least 1");
    }

    /// <summary>Dropout probability p must lie in [0, 1): p = 1 would zero every activation.</summary>
    public static void RequireDropout(double p, string paramName)
    {
        if (double.IsNaN(p) || p < 0.0 || p >= 1.0)
            throw new ArgumentOutOfRangeException(paramName, p, $"dropout probability must be in [0, 1), got {p}");
    }
}
