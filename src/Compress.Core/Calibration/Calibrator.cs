using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Calibration;

/// <summary>
/// Computes activation ranges for static quantization, as onnxruntime.quantization's calibrators do:
/// a copy of the model exposes every tensor to calibrate as a graph output, ONNX Runtime runs it on
/// the calibration batches (graph optimizations off, as ORT's calibrators), and each tensor's values
/// go to a fixed-size collector (MinMax, or a histogram for Entropy and Percentile). Output tensors are
/// released after every batch, so memory does not grow with the number of samples.
/// </summary>
/// <remarks>
/// Tensors inside subgraphs cannot be graph outputs: an If whose condition took one value on every
/// batch is first replaced by the branch that ran (<see cref="TakenBranchInliner"/>), so its tensors are
/// calibrated; tensors of other subgraphs (Loop bodies, Ifs whose branches both ran) get no range and are
/// listed in <see cref="CalibrationResult.Uncalibrated"/>, as are those of branches that never ran. The model passed in is not changed.
/// </remarks>
public static class Calibrator
{
    /// <summary>Runs <paramref name="model"/> on <paramref name="data"/> and returns a range per calibrated tensor.</summary>
    /// <param name="model">The float model (not modified).</param>
    /// <param name="data">Calibration data opened for this model.</param>
    /// <param name="options">Method and settings.</param>
    /// <exception cref="CompressException">CMP3003 when ONNX Runtime cannot load or run the model.</exception>
    public static CalibrationResult Calibrate(ModelProto model, CalibrationDataSet data, CalibrationOptions options) =>
        Calibrate(model, data, options, observer: null);

    internal static CalibrationResult Calibrate(ModelProto model, CalibrationDataSet data, CalibrationOptions options, ActivationObserver? observer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();

        ModelProto copy = model.Clone();
        List<UncalibratedTensor> neverRan = TakenBranchInliner.Inline(copy, data, options, m => CreateSession(m, options));
        var graph = new ModelGraph(copy);
        IReadOnlyList<DeclaredInput> inputs = DeclaredInput.Of(copy);
        CalibrationPlan plan = CalibrationPlan.Build(graph, inputs, data.InputNames, options.TensorNames);
        ExposeAsOutputs(copy, plan);

        using OrtModelSession opened = CreateSession(copy, options);
        InferenceSession session = opened.Session;
        var uncalibrated = new List<UncalibratedTensor>(plan.Uncalibrated.Concat(neverRan));
        List<string> calibratedOutputs = SelectFloatOutputs(session, plan, uncalibrated);
        var outputNames = calibratedOutputs.Concat(plan.Branches.Where(b => !b.ConditionIsGraphInput).Select(b => b.Condition)).Distinct(StringComparer.Ordinal).ToList();
        Dictionary<string, BranchWatch> watchedOutputs = plan.Branches.Where(b => !b.ConditionIsGraphInput).GroupBy(b => b.Condition).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

        var collectors = new Dictionary<string, ITensorCollector>(StringComparer.Ordinal);
        foreach (string name in plan.GraphInputs.Concat(calibratedOutputs))
        {
            collectors[name] = CreateCollector(options);
        }

        var feeder = new CollectorFeeder(collectors, observer);
        int samples = 0;
        int batches = 0;
        using var runOptions = new RunOptions();
        foreach (CalibrationBatch batch in data.ReadBatches(options.BatchSize))
        {
            using (batch)
            {
                foreach (string name in plan.GraphInputs)
                {
                    feeder.Feed(name, batch[name]);
                }

                foreach (BranchWatch watch in plan.Branches.Where(b => b.ConditionIsGraphInput))
                {
                    watch.Observe(batch[watch.Condition].GetTensorDataAsSpan<bool>());
                }

                using IDisposableReadOnlyCollection<OrtValue> outputs = Run(session, runOptions, batch, outputNames);
                for (int i = 0; i < outputNames.Count; i++)
                {
                    if (watchedOutputs.TryGetValue(outputNames[i], out BranchWatch? watch))
                    {
                        watch.Observe(outputs[i].GetTensorDataAsSpan<bool>());
                    }
                    else
                    {
                        feeder.Feed(outputNames[i], outputs[i]);
                    }
                }
            }

            samples += batch.SampleCount;
            batches++;
            options.Progress?.Report(new CalibrationProgress(samples, data.SampleCount, batches));
        }

        var ranges = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        foreach ((string name, ITensorCollector collector) in collectors)
        {
            if (collector.Compute() is TensorRange range)
            {
                ranges[name] = range;
            }
            else
            {
                uncalibrated.Add(new UncalibratedTensor(name, UncalibratedReason.NoValues, "every value it took on the calibration data was NaN, or it was always empty."));
            }
        }

        uncalibrated.AddRange(plan.SubgraphTensors.Select(t => plan.Explain(t.Name, t.Scope)));
        return new CalibrationResult(options.Method, ranges, uncalibrated, samples, batches, clock.Elapsed);
    }

    private static ITensorCollector CreateCollector(CalibrationOptions options) => options.Method == CalibrationMethod.MinMax
        ? new MinMaxCollector(options.MovingAverage, options.MovingAverageConstant, options.EffectiveSymmetric)
        : new HistogramCollector(options);

    /// <summary>
    /// Adds the planned tensors (and watched If conditions) as graph outputs. No type is given: ORT
    /// infers the types of graph outputs while it resolves the graph, so models without value_info work.
    /// </summary>
    private static void ExposeAsOutputs(ModelProto copy, CalibrationPlan plan)
    {
        var outputs = new HashSet<string>(copy.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        IEnumerable<string> conditions = plan.Branches.Where(b => !b.ConditionIsGraphInput).Select(b => b.Condition);
        foreach (string name in plan.NodeOutputs.Concat(conditions))
        {
            if (outputs.Add(name))
            {
                copy.Graph.Output.Add(new ValueInfoProto { Name = name });
            }
        }
    }

    internal static OrtModelSession CreateSession(ModelProto copy, CalibrationOptions options)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
            IntraOpNumThreads = options.IntraOpThreads,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try
        {
            return OrtModelSession.Open(copy, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(DiagnosticCodes.PassFailed, $"Calibration: ONNX Runtime cannot load the model with its tensors exposed as outputs: {e.Message}", inner: e);
        }
    }

    /// <summary>The planned node outputs that ORT reports as float32/float16 tensors, in plan order.</summary>
    private static List<string> SelectFloatOutputs(InferenceSession session, CalibrationPlan plan, List<UncalibratedTensor> uncalibrated)
    {
        var selected = new List<string>();
        foreach (string name in plan.NodeOutputs)
        {
            bool isFloat = session.OutputMetadata.TryGetValue(name, out NodeMetadata? meta) && meta.IsTensor && CalibrationPlan.IsFloat(meta.ElementDataType);
            if (isFloat)
            {
                selected.Add(name);
            }
            else if (plan.ExplicitNames)
            {
                string type = meta is null ? "unknown" : meta.IsTensor ? ElementConversion.Name(meta.ElementDataType) : meta.OnnxValueType.ToString();
                uncalibrated.Add(new UncalibratedTensor(name, UncalibratedReason.NotFloat, $"a {type} tensor, not a float tensor."));
            }
        }

        return selected;
    }

    private static IDisposableReadOnlyCollection<OrtValue> Run(InferenceSession session, RunOptions runOptions, CalibrationBatch batch, List<string> outputNames)
    {
        try
        {
            return session.Run(runOptions, batch.InputNames, batch.Values, outputNames);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(
                DiagnosticCodes.PassFailed,
                $"Calibration: ONNX Runtime failed on the batch of samples {batch.FirstSample}..{batch.FirstSample + batch.SampleCount - 1}: {e.Message}",
                inner: e);
        }
    }

    /// <summary>Hands tensor values to their collectors, widening float16 through one reused buffer.</summary>
    private sealed class CollectorFeeder(Dictionary<string, ITensorCollector> collectors, ActivationObserver? observer)
    {
        private float[] _widened = [];

        public void Feed(string name, OrtValue value)
        {
            ReadOnlySpan<float> values;
            OrtTensorTypeAndShapeInfo info = value.GetTensorTypeAndShape();
            if (info.ElementDataType == TensorElementType.Float16)
            {
                ReadOnlySpan<Half> halves = MemoryMarshal.Cast<byte, Half>(value.GetTensorMutableRawData());
                if (_widened.Length < halves.Length)
                {
                    _widened = new float[halves.Length];
                }

                TensorPrimitives.ConvertToSingle(halves, _widened);
                values = _widened.AsSpan(0, halves.Length);
            }
            else
            {
                values = value.GetTensorDataAsSpan<float>();
            }

            collectors[name].Add(values);
            observer?.Invoke(name, values);
        }
    }
}
