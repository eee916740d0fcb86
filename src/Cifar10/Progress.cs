namespace Cifar10;

/// <summary>
/// How far a long piece of work outside the epochs has come (a test evaluation, the learning-rate
/// finder): <see cref="Done"/> of <see cref="Total"/> <see cref="Unit"/>. The work reports 0 done
/// when it starts, then after every batch or step, so whoever shows it can say at once what is
/// under way and estimate the rest from the first units measured.
/// </summary>
/// <param name="Activity">What is being done, e.g. "test set (best, TTA)"; the same text for every report of one piece of work.</param>
/// <param name="Done">The units done so far.</param>
/// <param name="Total">The units of the whole piece of work.</param>
/// <param name="Unit">What is counted, singular: "image", "step".</param>
/// <param name="Detail">The latest figures worth showing (a loss, a learning rate), or null.</param>
public readonly record struct WorkProgress(string Activity, long Done, long Total, string Unit, string? Detail = null)
{
    /// <summary>Whether this is the report that the work starts (nothing done yet).</summary>
    public bool IsStart => Done == 0;
    /// <summary>Whether this is the report that the work is done.</summary>
    public bool IsEnd => Done >= Total;
}
