using Compress.Core.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Calibration;

/// <summary>
/// How one stored array feeds one model input: where the batch axis goes (the first position where
/// the declared shape allows it and the other fixed dimensions match), and how a run of samples is
/// copied and converted into an ORT tensor of the input's element type.
/// </summary>
internal sealed class InputLayout
{
    private readonly long[] _sampleShape;
    private readonly int _storedAxis;
    private readonly long _storedInner;
    private readonly long _modelInner;
    private readonly long _sampleElements;

    private InputLayout(DeclaredInput input, StoredArray array, long[] sampleShape, int storedAxis, int batchAxis, bool fixedBatchOfOne)
    {
        Input = input;
        Array = array;
        _sampleShape = sampleShape;
        _storedAxis = storedAxis;
        BatchAxis = batchAxis;
        FixedBatchOfOne = fixedBatchOfOne;
        _sampleElements = Product(sampleShape, 0, sampleShape.Length);
        if (storedAxis >= 0)
        {
            _storedInner = Product(array.Shape, storedAxis + 1, array.Shape.Count);
            _modelInner = Product(sampleShape, batchAxis, sampleShape.Length);
        }
    }

    public DeclaredInput Input { get; }

    public StoredArray Array { get; }

    /// <summary>True for a 0-d array: the same value is fed with every batch.</summary>
    public bool IsShared => _storedAxis < 0;

    /// <summary>Position of the batch axis in the model input.</summary>
    public int BatchAxis { get; }

    /// <summary>The declared input has a fixed size 1 on its batch axis, so batches hold one sample.</summary>
    public bool FixedBatchOfOne { get; }

    /// <summary>Number of samples the array holds (1 for a shared 0-d array).</summary>
    public long SampleCount => IsShared ? 1 : Array.Shape[_storedAxis];

    /// <summary>Checks <paramref name="array"/> against <paramref name="input"/> and works out the layout.</summary>
    /// <exception cref="CompressException">CMP1007 when type, rank or fixed dimensions do not fit.</exception>
    public static InputLayout Create(DeclaredInput input, StoredArray array)
    {
        if (ElementConversion.SizeOf(input.ElementType) == 0)
        {
            throw Invalid(array, $"model input '{input.Name}' has element type {ElementConversion.Name(input.ElementType)}, which calibration data cannot feed.");
        }

        if (!ElementConversion.CanConvert(array.ElementType, input.ElementType))
        {
            string accepted = string.Join(", ", ElementConversion.AcceptedBy(input.ElementType).Select(ElementConversion.Name));
            throw Invalid(array, $"'{array.Label}' holds {ElementConversion.Name(array.ElementType)} values, which cannot be converted to the element type {ElementConversion.Name(input.ElementType)} of model input '{input.Name}' (it accepts {accepted} data).");
        }

        long[] shape = [.. array.Shape];
        if (shape.Length == 0)
        {
            if (input.Dims is { Count: > 0 })
            {
                throw Invalid(array, $"'{array.Label}' is a 0-d array (one value shared by every sample), but model input '{input.Name}' is declared {input.ShapeText}; a 0-d array can only feed a scalar input.");
            }

            return new InputLayout(input, array, [], -1, 0, false);
        }

        if (!array.SamplesOnAxis0)
        {
            // A whole input with its batch axis (ONNX backend test data): find that axis.
            for (int axis = 0; axis < shape.Length; axis++)
            {
                long[] sample = [.. shape[..axis], .. shape[(axis + 1)..]];
                int? batchAxis = FindBatchAxis(input, sample);
                if (batchAxis == axis)
                {
                    return new InputLayout(input, array, sample, axis, axis, IsFixedOne(input, axis));
                }
            }

            throw ShapeMismatch(input, array, $"its shape [{string.Join(',', shape)}]");
        }

        long[] sampleShape = shape[1..];
        int? at = FindBatchAxis(input, sampleShape);
        if (at is null)
        {
            throw ShapeMismatch(input, array, $"its shape [{string.Join(',', shape)}] gives samples of shape [{string.Join(',', sampleShape)}]");
        }

        return new InputLayout(input, array, sampleShape, 0, at.Value, IsFixedOne(input, at.Value));
    }

    /// <summary>The model-input shape of a batch of <paramref name="count"/> samples.</summary>
    public long[] BatchShape(int count) => IsShared ? [] : [.. _sampleShape[..BatchAxis], count, .. _sampleShape[BatchAxis..]];

    /// <summary>Creates the ORT tensor for samples <paramref name="start"/>..+<paramref name="count"/> (the caller disposes it).</summary>
    public OrtValue CreateBatch(long start, int count)
    {
        long[] shape = BatchShape(count);
        OrtValue value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, Input.ElementType, shape);
        try
        {
            Span<byte> destination = value.GetTensorMutableRawData();
            ReadOnlySpan<byte> source = Array.Bytes;
            int fromSize = ElementConversion.SizeOf(Array.ElementType);
            int toSize = ElementConversion.SizeOf(Input.ElementType);
            if (IsShared)
            {
                ElementConversion.Convert(source, Array.ElementType, destination, Input.ElementType, 1);
                return value;
            }

            // Stored element (outer, sample, inner) goes to model element (outer', batch, inner'). Both
            // inner sizes are suffix products of the sample shape, so the smaller divides the larger and
            // runs of that length are contiguous on both sides.
            long stored = Array.Shape[_storedAxis];
            long run = Math.Min(_storedInner, _modelInner);
            for (int s = 0; s < count; s++)
            {
                for (long e = 0; e < _sampleElements; e += run)
                {
                    long from = ((((e / _storedInner) * stored) + start + s) * _storedInner) + (e % _storedInner);
                    long to = ((((e / _modelInner) * count) + s) * _modelInner) + (e % _modelInner);
                    ElementConversion.Convert(
                        source.Slice(checked((int)(from * fromSize)), checked((int)(run * fromSize))),
                        Array.ElementType,
                        destination.Slice(checked((int)(to * toSize)), checked((int)(run * toSize))),
                        Input.ElementType,
                        (int)run);
                }
            }

            return value;
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The first position where the batch axis can go: the declared dimension there is symbolic or 1,
    /// and every other fixed dimension equals the sample's. Null when none fits.
    /// </summary>
    private static int? FindBatchAxis(DeclaredInput input, long[] sampleShape)
    {
        if (input.Dims is null)
        {
            return 0;
        }

        if (input.Dims.Count != sampleShape.Length + 1)
        {
            return null;
        }

        for (int axis = 0; axis < input.Dims.Count; axis++)
        {
            if (input.Dims[axis] is not (null or 1))
            {
                continue;
            }

            bool fits = true;
            for (int d = 0, s = 0; d < input.Dims.Count; d++)
            {
                if (d == axis)
                {
                    continue;
                }

                if (input.Dims[d] is long size && size != sampleShape[s])
                {
                    fits = false;
                }

                s++;
            }

            if (fits)
            {
                return axis;
            }
        }

        return null;
    }

    private static bool IsFixedOne(DeclaredInput input, int axis) => input.Dims is not null && input.Dims[axis] == 1;

    private static CompressException ShapeMismatch(DeclaredInput input, StoredArray array, string what)
    {
        string rule = array.SamplesOnAxis0
            ? "Samples run along axis 0 and a sample is the input without its batch axis, which goes in at the first position where the declared shape allows a 1."
            : "Each tensor must be the whole input, batch axis included.";
        return Invalid(array, $"'{array.Label}' does not fit model input '{input.Name}' declared {input.ShapeText}: {what}. {rule}");
    }

    private static CompressException Invalid(StoredArray array, string message) => new(DiagnosticCodes.DataFileInvalid, message, array.File);

    private static long Product(IReadOnlyList<long> dims, int from, int to)
    {
        long n = 1;
        for (int i = from; i < to; i++)
        {
            n = checked(n * dims[i]);
        }

        return n;
    }
}
