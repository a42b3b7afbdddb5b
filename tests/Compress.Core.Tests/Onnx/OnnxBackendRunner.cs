using System.Text.RegularExpressions;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Onnx;

/// <summary>
/// Runs one ONNX backend test case (model.onnx + test_data_set_N/input_i.pb, output_i.pb) in ONNX
/// Runtime the way onnx's backend runner with ORT's backend does: input files are fed to the
/// session's inputs in order, outputs are compared in order with rtol 1e-3 / atol 1e-7.
/// </summary>
internal static partial class OnnxBackendRunner
{
    /// <summary>onnx 1.12 backend runner defaults (onnx/backend/test/loader: TestCase rtol/atol for data-driven tests).</summary>
    public const double DefaultRtol = 1e-3;

    /// <summary>See <see cref="DefaultRtol"/>.</summary>
    public const double DefaultAtol = 1e-7;

    /// <summary>Runs the case from the given model bytes (the round-tripped copy).</summary>
    public static BackendCaseResult Run(string name, string caseFolder, byte[] modelBytes)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,

            // Kernels are what is being checked; skipping graph rewrites also makes 900 sessions faster.
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };

        InferenceSession session;
        try
        {
            session = new InferenceSession(modelBytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            return new(name, BackendCaseOutcome.SkippedByOrt, "load: " + Group(e.Message));
        }

        using (session)
        {
            string? nonTensor = session.InputMetadata.Concat(session.OutputMetadata)
                .Where(kv => kv.Value.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR)
                .Select(kv => $"{kv.Value.OnnxValueType} value '{kv.Key}'")
                .FirstOrDefault();
            if (nonTensor is not null)
            {
                return new(name, BackendCaseOutcome.SkippedByOrt, "non-tensor input/output (test data is SequenceProto/OptionalProto): " + TypeGroup().Match(nonTensor).Value);
            }

            foreach (string dataSet in Directory.GetDirectories(caseFolder, "test_data_set_*").Order(StringComparer.Ordinal))
            {
                BackendCaseResult? problem = RunDataSet(name, session, dataSet);
                if (problem is not null)
                {
                    return problem;
                }
            }
        }

        return new(name, BackendCaseOutcome.Agreed, string.Empty);
    }

    private static BackendCaseResult? RunDataSet(string name, InferenceSession session, string dataSet)
    {
        List<TensorProto> inputs = ReadNumbered(dataSet, "input", session.InputMetadata, session.InputNames);
        List<TensorProto> expected = ReadNumbered(dataSet, "output", session.OutputMetadata, session.OutputNames);
        string? unsupported = inputs.Concat(expected)
            .Select(t => (TensorProto.Types.DataType)t.DataType)
            .Where(t => !OnnxTensorConverter.IsSupported(t))
            .Select(t => t.ToString())
            .FirstOrDefault();
        if (unsupported is not null)
        {
            return new(name, BackendCaseOutcome.SkippedByOrt, $"element type {unsupported} not exchangeable through ORT's C# API");
        }

        IReadOnlyList<string> inputNames = session.InputNames;
        if (inputs.Count > inputNames.Count || expected.Count > session.OutputNames.Count)
        {
            return new(name, BackendCaseOutcome.Failed, $"{Path.GetFileName(dataSet)} has {inputs.Count} inputs / {expected.Count} outputs, the session {inputNames.Count} / {session.OutputNames.Count}");
        }

        var feeds = new List<OrtValue>();
        try
        {
            foreach (TensorProto input in inputs)
            {
                feeds.Add(OnnxTensorConverter.ToOrtValue(input));
            }

            string[] outputNames = [.. session.OutputNames.Take(expected.Count)];
            using var runOptions = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> results;
            try
            {
                results = session.Run(runOptions, [.. inputNames.Take(inputs.Count)], feeds, outputNames);
            }
            catch (OnnxRuntimeException e)
            {
                return new(name, BackendCaseOutcome.SkippedByOrt, "run: " + Group(e.Message));
            }

            using (results)
            {
                for (int i = 0; i < expected.Count; i++)
                {
                    double atol = KnownOrtDifferences.ScaledAtol(name) is double factor
                        ? factor * TensorData.ReadFloats(expected[i]).Max(v => Math.Abs(v))
                        : DefaultAtol;
                    string? difference = OrtOutputComparer.Compare(expected[i], results[i], DefaultRtol, atol);
                    if (difference is not null)
                    {
                        string detail = $"{Path.GetFileName(dataSet)} output {i} '{outputNames[i]}': {difference}";
                        string? known = KnownOrtDifferences.Reason(name);
                        return known is null
                            ? new(name, BackendCaseOutcome.Failed, detail)
                            : new(name, BackendCaseOutcome.KnownDifference, $"{known} [{detail}]");
                    }
                }
            }
        }
        finally
        {
            foreach (OrtValue feed in feeds)
            {
                feed.Dispose();
            }
        }

        return null;
    }

    /// <summary>
    /// Reads input_0.pb, input_1.pb, ... NumPy has no bfloat16, so onnx 1.12 stores bfloat16 test data as
    /// uint16 bit patterns; where the model declares bfloat16 the tensor is relabelled (same bytes).
    /// </summary>
    private static List<TensorProto> ReadNumbered(string dataSet, string prefix, IReadOnlyDictionary<string, NodeMetadata> metadata, IReadOnlyList<string> names)
    {
        var result = new List<TensorProto>();
        for (int i = 0; File.Exists(Path.Combine(dataSet, $"{prefix}_{i}.pb")); i++)
        {
            TensorProto tensor = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dataSet, $"{prefix}_{i}.pb")));
            if (i < names.Count && tensor.DataType == (int)TensorProto.Types.DataType.Uint16
                && metadata[names[i]].ElementDataType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.BFloat16)
            {
                tensor.DataType = (int)TensorProto.Types.DataType.Bfloat16;
            }

            result.Add(tensor);
        }

        return result;
    }

    /// <summary>Reduces an ORT error to a reason shared by many cases (drops node names, paths, numbers).</summary>
    private static string Group(string message)
    {
        string first = message.Split('\n')[0];
        Match kernel = NoKernel().Match(first);
        if (kernel.Success)
        {
            return $"no CPU kernel for {kernel.Groups[1].Value}({kernel.Groups[2].Value})";
        }

        Match opset = OpsetRange().Match(first);
        if (opset.Success)
        {
            return "opset not supported by ORT 1.31: " + opset.Value;
        }

        string cleaned = Quoted().Replace(first, "'…'");
        cleaned = Numbers().Replace(cleaned, "N");
        return cleaned.Length > 160 ? cleaned[..160] + "…" : cleaned;
    }

    [GeneratedRegex(@"Could not find an implementation for (\w+)\((\d+)\)")]
    private static partial Regex NoKernel();

    [GeneratedRegex(@"ONNX Runtime only \*guarantees\* support for models stamped with official released onnx opset versions.*|Opset \d+ is under development.*|opset.*not supported.*", RegexOptions.IgnoreCase)]
    private static partial Regex OpsetRange();

    [GeneratedRegex(@"'[^']*'|""[^""]*""")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Numbers();

    [GeneratedRegex(@"^ONNX_TYPE_\w+")]
    private static partial Regex TypeGroup();
}
