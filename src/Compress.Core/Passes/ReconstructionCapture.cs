using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Passes;

/// <summary>
/// An ONNX Runtime session of a copy of a model in which one intermediate tensor is a graph output
/// (the same mechanism as <see cref="Calibrator"/>), so a layer's input or output can be read batch by batch.
/// </summary>
internal sealed class ReconstructionCapture : IDisposable
{
    private readonly OrtModelSession? _session;
    private readonly string _tensor;
    private readonly bool _isInput;

    public ReconstructionCapture(ModelProto model, string tensor)
    {
        _tensor = tensor;
        _isInput = model.Graph.Input.Any(i => i.Name == tensor) && model.Graph.Initializer.All(t => t.Name != tensor);
        if (_isInput)
        {
            return;
        }

        try
        {
            _session = OrtModelSession.OpenExposing(model, [tensor]);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(DiagnosticCodes.PassFailed, $"Reconstruction: ONNX Runtime cannot load the model with '{tensor}' exposed: {e.Message}", inner: e);
        }
    }

    /// <summary>The tensor's values for <paramref name="batch"/> and its shape.</summary>
    public float[] Read(CalibrationBatch batch, out long[] shape)
    {
        if (_isInput)
        {
            OrtValue value = batch[_tensor];
            shape = value.GetTensorTypeAndShape().Shape;
            return value.GetTensorDataAsSpan<float>().ToArray();
        }

        try
        {
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = _session!.Session.Run(runOptions, batch.InputNames, batch.Values, [_tensor]);
            shape = outputs[0].GetTensorTypeAndShape().Shape;
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(DiagnosticCodes.PassFailed, $"Reconstruction: ONNX Runtime failed while reading '{_tensor}': {e.Message}", inner: e);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _session?.Dispose();
}
