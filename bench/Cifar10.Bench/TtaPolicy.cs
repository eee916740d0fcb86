using System.Diagnostics;
using System.Globalization;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Runs;

namespace Cifar10.Bench;

/// <summary>
/// The test-time augmentation policies of one trained checkpoint, each a real, timed evaluation of the
/// test set: the plain view, every view for every image, and every view only below each confidence
/// threshold. Prints CSV: policy,confidence,accuracy,all_views_fraction,forwards_per_image,seconds.
/// </summary>
static class TtaPolicy
{
    public static int Run(string[] args)
    {
        string checkpoint = args[0];
        string data = Option(args, "--data") ?? throw new ArgumentException("--data PATH is required");
        var thresholds = (Option(args, "--confidence") ?? "0.9,0.8,0.7,0.6,0.5").Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture));
        int batch = int.Parse(Option(args, "--batch") ?? "500", CultureInfo.InvariantCulture);

        using var session = Session.Open(new SessionOptions { Data = new DataRequest { Data = data } });
        var (model, state) = session.LoadModel(checkpoint);
        using (model)
        {
            var test = session.Test;
            EvaluationResult Timed(TestTimeAugmentation views, double confidence, out double seconds)
            {
                var clock = Stopwatch.StartNew();
                var result = Evaluator.Evaluate(model, test, session.Device, batch, views, normalization: state.Normalization,
                                                allViewsBelowConfidence: confidence);
                seconds = clock.Elapsed.TotalSeconds;
                return result;
            }
            Console.WriteLine("policy,confidence,accuracy,all_views_fraction,forwards_per_image,seconds");
            void Print(string policy, double confidence, EvaluationResult result, double fraction, double seconds) =>
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{policy},{confidence},{result.Accuracy:F4},{fraction:F4},{1 + 5 * fraction:F2},{seconds:F1}"));

            var plain = Timed(TestTimeAugmentation.None, 1, out double plainSeconds);
            Print("plain", 0, plain, 0, plainSeconds);
            Print("all", 1, Timed(TestTimeAugmentation.MirrorTranslate, 1, out double allSeconds), 1, allSeconds);
            foreach (double confidence in thresholds)
            {
                // The plain view's top probability decides which images get every view: the same one Evaluate computes.
                double fraction = plain.Confidences.Count(c => c < confidence) / (double)plain.Count;
                var result = Timed(TestTimeAugmentation.MirrorTranslate, confidence, out double seconds);
                Print("uncertain", confidence, result, fraction, seconds);
            }
        }
        return 0;
    }

    static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
