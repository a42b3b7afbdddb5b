using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Evaluation;

/// <summary>
/// Runs a model with ONNX Runtime over evaluation data and collects one output as float32. The data are read
/// with <see cref="CalibrationDataSet"/> (same formats and input mapping as calibration); the batch axis of the
/// output is axis 0. Inputs a compressed model takes as float16 (float16 without keep_io_types) are converted.
/// </summary>
public static class ModelOutputCollector
{
    /// <summary>Runs <paramref name="model"/> on every sample of <paramref name="data"/>.</summary>
    /// <param name="model">The model to run (not changed).</param>
    /// <param name="inputModel">The model whose declared inputs the data are checked against (the original).</param>
    /// <param name="data">The evaluation data and output name.</param>
    /// <param name="progress">Receives (samples done, samples in all) after every batch; null reports nothing.</param>
    /// <exception cref="CompressException">CMP2003 for an unknown output; data errors as in <see cref="CalibrationDataSet.Open"/>.</exception>
    public static CollectedOutput Collect(ModelProto model, ModelProto inputModel, EvaluationData data, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputModel);
        ArgumentNullException.ThrowIfNull(data);
        string output = OutputName(inputModel, data.OutputName);
        CalibrationDataSet set = CalibrationDataSet.Open(data.DataPaths, inputModel, data.MaxSamples);
        using SessionOptions options = EvaluationSessionOptions.Create();
        OrtModelSession opened;
        try
        {
            opened = OrtModelSession.Open(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(DiagnosticCodes.ModelInvalid, $"Evaluation: ONNX Runtime cannot load the model: {e.Message}", inner: e);
        }

        using (opened)
        {
            InferenceSession session = opened.Session;
            if (!session.OutputMetadata.ContainsKey(output))
            {
                throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, $"The compressed model has no output '{output}'.");
            }

            var values = new List<float>();
            IReadOnlyList<long>? sampleShape = null;
            int samples = 0;
            using var runOptions = new RunOptions();
            foreach (CalibrationBatch batch in set.ReadBatches(data.BatchSize))
            {
                using (batch)
                {
                    var converted = new List<OrtValue>();
                    try
                    {
                        OrtValue[] inputs = SessionInputFitting.FitAll(session, batch.InputNames, batch.Values, converted);

                        using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, batch.InputNames, inputs, [output]);
                        sampleShape = Append(results[0], output, batch.SampleCount, values, sampleShape);
                        samples += batch.SampleCount;
                        progress?.Invoke(samples, set.SampleCount);
                    }
                    catch (OnnxRuntimeException e)
                    {
                        throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, $"Evaluation: ONNX Runtime failed on samples {batch.FirstSample}..{batch.FirstSample + batch.SampleCount - 1}: {e.Message}", inner: e);
                    }
                    finally
                    {
                        converted.ForEach(v => v.Dispose());
                    }
                }
            }

            return new CollectedOutput(output, [.. values], samples, sampleShape ?? []);
        }
    }

    /// <summary>The output to score: <paramref name="requested"/> when the model has it, else its first output.</summary>
    public static string OutputName(ModelProto model, string? requested)
    {
        ArgumentNullException.ThrowIfNull(model);
        List<string> outputs = [.. model.Graph.Output.Select(o => o.Name)];
        if (requested is null)
        {
            return outputs.Count > 0 ? outputs[0] : throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, "The model has no outputs to evaluate.");
        }

        return outputs.Contains(requested, StringComparer.Ordinal)
            ? requested
            : throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, $"The model has no output '{requested}'; its outputs are {string.Join(", ", outputs)}.");
    }

    private static long[] Append(OrtValue result, string output, int batchSamples, List<float> values, IReadOnlyList<long>? expectedShape)
    {
        if (!result.IsTensor)
        {
            throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, $"Output '{output}' is not a tensor; only tensor outputs can be evaluated.");
        }

        OrtTensorTypeAndShapeInfo info = result.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        if (shape.Length == 0 || shape[0] != batchSamples)
        {
            throw new CompressException(
                DiagnosticCodes.EvaluationDataInvalid,
                $"Output '{output}' is [{string.Join(", ", shape)}] for a batch of {batchSamples} samples; evaluation needs the batch on axis 0 (choose another 'output').");
        }

        long[] sampleShape = shape[1..];
        if (expectedShape is not null && !expectedShape.SequenceEqual(sampleShape))
        {
            throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, $"Output '{output}' changes shape between batches ([{string.Join(", ", expectedShape)}] then [{string.Join(", ", sampleShape)}]).");
        }

        switch (info.ElementDataType)
        {
            case TensorElementType.Float:
                values.AddRange(result.GetTensorDataAsSpan<float>());
                break;
            case TensorElementType.Float16:
                foreach (Float16 h in result.GetTensorDataAsSpan<Float16>())
                {
                    values.Add((float)BitConverter.UInt16BitsToHalf(h.value));
                }

                break;
            case TensorElementType.Double:
                foreach (double d in result.GetTensorDataAsSpan<double>())
                {
                    values.Add((float)d);
                }

                break;
            default:
                throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, $"Output '{output}' holds {info.ElementDataType}; evaluation compares float outputs.");
        }

        return sampleShape;
    }
}
