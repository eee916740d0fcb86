namespace Cifar10.Reporting;

/// <summary>The epoch with the highest validation accuracy; shared by run and sweep reports so both agree.</summary>
internal sealed record BestValidation(double Accuracy, int Epoch)
{
    /// <summary>Null when no epoch has a validation accuracy (no validation set, or no epochs yet).
    /// Ties go to the earliest epoch.</summary>
    public static BestValidation? Of(IEnumerable<EpochMetrics> epochs) =>
        epochs.Where(m => double.IsFinite(m.ValAccuracy))
            .Aggregate((BestValidation?)null, (best, m) =>
                best is null || m.ValAccuracy > best.Accuracy ? new BestValidation(m.ValAccuracy, m.Epoch) : best);
}
