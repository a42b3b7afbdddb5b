using System.Globalization;
using System.Reflection;
using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Quantization.Bench;
using Microsoft.ML.OnnxRuntime;

// Usage: dotnet run -c Release --project bench/Compress.Quantization.Bench [-- --threads N --rounds R --models a,b --extra model=file.onnx]
// Prints a Markdown table: per shared model and variant, size and ORT CPU latency relative to fp32.
int threads = ArgOr(args, "--threads", 1);
int rounds = ArgOr(args, "--rounds", 15);
int only = Array.IndexOf(args, "--models");
string[]? selected = only >= 0 && only + 1 < args.Length ? args[only + 1].Split(',') : null;
// --extra model=path.onnx (repeatable): also measure a model file made elsewhere (e.g. by `compress run` with tuning).
(string Model, string Path)[] extras = [.. args.Select((a, i) => (a, i)).Where(p => p.a == "--extra" && p.i + 1 < args.Length)
    .Select(p => args[p.i + 1].Split('=', 2)).Select(kv => (kv[0], kv[1]))];
string shared = typeof(BenchModel).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
    .First(a => a.Key == "CompressSharedDir").Value!;

BenchModel[] models =
[
    new("digits-mlp", "digits_test_x.npy", "digits_calib_x.npy", 64, WeightDominated: true),
    new("fashion-cnn", "fashion_test_x.npy", "fashion_calib_x.npy", 64, WeightDominated: true),
    new("ocr-cls", "cls_test_x.npy", "cls_calib_x.npy", 16, WeightDominated: false),
    new("ocr-det", "det_test_x.npy", "det_calib_x.npy", 1, WeightDominated: false),
    new("silero-vad-v4", "vad_test.npz", "vad_calib.npz", 64, WeightDominated: false),
];

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ORT {OrtEnv.Instance().GetVersionString()}, CPU EP, {threads} intra-op thread(s), graph optimization ALL, median of {rounds} interleaved rounds"));
Console.WriteLine();
Console.WriteLine("| model | batch | variant | nodes quantized | bytes | size vs fp32 | latency ms | latency vs fp32 |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
foreach (BenchModel model in models.Where(m => selected is null || selected.Contains(m.Name)))
{
    string modelPath = Path.Combine(shared, "models", model.Name + ".onnx");
    ModelProto fp32 = OnnxModelFile.Load(modelPath);
    List<Variant> variants = [new("fp32", File.ReadAllBytes(modelPath), 0)];
    foreach (VariantRecipe recipe in Recipes.All(shared))
    {
        Variant? variant = recipe.Make(fp32.Clone(), model);
        if (variant is not null)
        {
            variants.Add(variant);
        }
    }

    foreach ((string _, string path) in extras.Where(e => e.Model == model.Name))
    {
        variants.Add(new Variant(Path.GetFileName(path), File.ReadAllBytes(path), 0));
    }

    CalibrationDataSet test = CalibrationDataSet.Open([Path.Combine(shared, "data", model.TestData)], fp32, model.BatchSize);
    using CalibrationBatch batch = test.ReadBatches(model.BatchSize).First();
    using var sessionOptions = new SessionOptions
    {
        IntraOpNumThreads = threads,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    };
    var sessions = variants.Select(v => new InferenceSession(v.Bytes, sessionOptions)).ToList();
    try
    {
        double[] ms = Latency.MedianMilliseconds(sessions, batch.InputNames, batch.Values, rounds);
        for (int i = 0; i < variants.Count; i++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {model.Name} | {batch.SampleCount} | {variants[i].Name} | {variants[i].NodesQuantized} | {variants[i].Bytes.Length:N0} | {(double)variants[i].Bytes.Length / variants[0].Bytes.Length:P1} | {ms[i]:F3} | {ms[i] / ms[0]:F2} |"));
        }
    }
    finally
    {
        sessions.ForEach(s => s.Dispose());
    }
}

return 0;

static int ArgOr(string[] args, string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
