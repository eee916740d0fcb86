namespace Cifar10.Prediction;

/// <summary>What <c>predict</c> and <c>serve</c> answer when not told otherwise, declared once for both.</summary>
public static class PredictionDefaults
{
    /// <summary>Classes given per image, most probable first.</summary>
    public const int Top = 5;
}
