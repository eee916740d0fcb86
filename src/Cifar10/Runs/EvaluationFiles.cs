using Cifar10.Evaluation;
using Cifar10.Reporting;

namespace Cifar10.Runs;

/// <summary>
/// Writes an evaluation as files: confusion_matrix.csv, per_class_accuracy.csv, eval.json. By default
/// they go into eval-CHECKPOINT[-tta] beside the checkpoint (in its run folder); existing files are
/// replaced only when the caller says so, and never a file of a run or checkpoint.
/// </summary>
public static class EvaluationFiles
{
    /// <summary>The evaluation's figures: accuracy, loss, images, test-time augmentation.</summary>
    public const string SummaryFile = "eval.json";

    /// <summary>Every file an evaluation writes: the confusion matrix, the per-class accuracy (CSV) and <see cref="SummaryFile"/>.</summary>
    public static readonly IReadOnlyList<string> FileNames = [ConfusionTables.ConfusionFile, ConfusionTables.PerClassFile, SummaryFile];

    /// <summary>eval-best, eval-last-tta, ...: the folder an evaluation of the checkpoint folder named <paramref name="checkpointName"/> goes to.</summary>
    public static string DefaultFolderName(string checkpointName, bool tta) => "eval-" + checkpointName + (tta ? "-tta" : "");

    /// <summary>The default folder beside <paramref name="checkpointFolder"/> (or beside a weights file, named after it).</summary>
    public static string DefaultFolder(string checkpointFolder, bool tta)
    {
        var full = Path.GetFullPath(checkpointFolder).TrimEnd(Path.DirectorySeparatorChar);
        return Path.Combine(Path.GetDirectoryName(full)!, DefaultFolderName(Path.GetFileName(full), tta));
    }

    /// <summary>Throws the <see cref="ConfigException"/> <see cref="Write"/> would, before any time is spent evaluating.</summary>
    public static void CheckCanWrite(string folder, bool replace) =>
        OutputFiles.CheckCanWriteInto(folder, FileNames, replace);

    /// <summary>Writes the files of <see cref="FileNames"/> for <paramref name="result"/> into <paramref name="folder"/> (created if needed); files already there are replaced only with <paramref name="replace"/>. Returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string folder, EvaluationResult result, TestTimeAugmentation tta, bool replace)
    {
        CheckCanWrite(folder, replace);
        var written = ConfusionTables.Write(folder, result.Confusion, result.ClassNames).ToList();
        var summary = Path.GetFullPath(Path.Combine(folder, SummaryFile));
        AtomicFile.WriteJson(summary, new { accuracy = result.Accuracy, loss = result.Loss, images = result.Count, tta });
        written.Add(summary);
        return written;
    }
}
