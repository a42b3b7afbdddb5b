using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Compress.Core.Evaluation;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Pipeline;
using Compress.Core.Reports;

namespace Compress.Cli;

/// <summary>
/// <c>compress eval &lt;original.onnx&gt; &lt;compressed.onnx&gt; --data ... [--labels y.npy] [--json]</c>: measures a
/// compressed model against its original (accuracy with labels, agreement, cosine, errors).
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var original = new Argument<FileInfo>("original") { Description = "The original (float) ONNX model." };
        var compressed = new Argument<FileInfo>("compressed") { Description = "The compressed ONNX model." };
        var data = new Option<string[]>("--data")
        {
            Description = "Input data: .npy (one input), .npz (inputs by name), folders of input_N.pb, or globs.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var labels = new Option<FileInfo?>("--labels") { Description = "int64 .npy of class labels, one per sample (optional)." };
        var output = new Option<string?>("--output-name") { Description = "The output to score (default: the first output)." };
        var samples = new Option<int?>("--samples") { Description = "Use only the first N samples." };
        var batchSize = new Option<int>("--batch-size") { Description = "Samples per model run.", DefaultValueFactory = _ => 64 };
        var topK = new Option<int>("--top-k") { Description = "k of the top-k accuracy (with labels).", DefaultValueFactory = _ => 5 };
        var threshold = new Option<double>("--threshold")
        {
            Description = "Decision threshold of a one-value output (class 1 when at least this), and of the masks of --mask-iou.",
            DefaultValueFactory = _ => 0.5,
        };
        var maskIou = new Option<bool>("--mask-iou") { Description = "Also measure the IoU of the masks 'value >= threshold' (a detector's probability map)." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var command = new Command("eval", "Compare a compressed model with its original on data: accuracy, agreement, mask IoU, cosine similarity, errors.")
        {
            original, compressed, data, labels, output, samples, batchSize, topK, threshold, maskIou, json,
        };
        command.SetAction(parse => Run(
            parse.GetRequiredValue(original),
            parse.GetRequiredValue(compressed),
            new EvaluationData
            {
                DataPaths = [.. parse.GetRequiredValue(data).Select(Path.GetFullPath)],
                LabelsPath = parse.GetValue(labels)?.FullName,
                OutputName = parse.GetValue(output),
                MaxSamples = parse.GetValue(samples),
                BatchSize = Math.Max(1, parse.GetValue(batchSize)),
                TopK = Math.Max(1, parse.GetValue(topK)),
                Threshold = parse.GetValue(threshold),
                MaskIou = parse.GetValue(maskIou),
            },
            parse.GetValue(json)));
        return command;
    }

    private static int Run(FileInfo originalFile, FileInfo compressedFile, EvaluationData data, bool json)
    {
        ModelProto original = OnnxModelFile.Load(originalFile.FullName);
        ModelProto compressed = OnnxModelFile.Load(compressedFile.FullName);
        EvaluationResult result = EvaluationReference.Create(original, data).Evaluate(compressed);
        Console.Out.WriteLine(json ? JsonSerializer.Serialize(result, ReportJson.Options) : ToText(result));
        return ExitCodes.Success;
    }

    private static string ToText(EvaluationResult result)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.Append(c, $"output {result.Output}, {result.Samples} samples, {(result.HasLabels ? "with labels" : "no labels (compared with the original)")}\n");
        text.Append(c, $"{"metric",-22} {"original",12} {"compressed",12}\n");
        void Row(string name, double? before, double? after)
        {
            if (before is not null || after is not null)
            {
                text.Append(c, $"{name,-22} {Format(before),12} {Format(after),12}\n");
            }
        }

        Row("accuracy", result.Before.Accuracy, result.After.Accuracy);
        Row($"top-{result.TopK} accuracy", result.Before.TopKAccuracy, result.After.TopKAccuracy);
        Row("agreement", result.Before.Agreement, result.After.Agreement);
        Row("mask IoU", result.Before.MaskIou, result.After.MaskIou);
        Row("mask IoU, worst sample", result.Before.MaskIouMin, result.After.MaskIouMin);
        Row("cosine", result.Before.Cosine, result.After.Cosine);
        Row("max abs error", result.Before.MaxAbsError, result.After.MaxAbsError);
        Row("mean abs error", result.Before.MeanAbsError, result.After.MeanAbsError);
        Row("relative error", result.Before.RelativeError, result.After.RelativeError);
        Row("accuracy drop", null, result.AccuracyDrop);
        return text.ToString().TrimEnd();
    }

    private static string Format(double? value) => value is double v ? v.ToString("0.######", CultureInfo.InvariantCulture) : "-";
}
