using System.Text;
using Compress.Core.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Onnx;

/// <summary>
/// Converts between ONNX <see cref="TensorProto"/> (test data, initializers, calibration samples) and
/// ONNX Runtime <see cref="OrtValue"/> tensors. Supports every element type ONNX Runtime's C# API
/// exchanges: float, double, float16, bfloat16, int8/16/32/64, uint8/16/32/64, bool and string.
/// </summary>
public static class OnnxTensorConverter
{
    /// <summary>True for the element types <see cref="ToOrtValue"/> and <see cref="ToTensorProto"/> handle.</summary>
    public static bool IsSupported(TensorProto.Types.DataType type) => type is
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16
        or TensorProto.Types.DataType.Bfloat16 or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Int16
        or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint8
        or TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Uint32 or TensorProto.Types.DataType.Uint64
        or TensorProto.Types.DataType.Bool or TensorProto.Types.DataType.String;

    /// <summary>
    /// Creates an ORT tensor holding a copy of <paramref name="tensor"/>'s values (the caller disposes it).
    /// ONNX and ORT number element types identically, so the type maps one to one.
    /// </summary>
    /// <exception cref="NotSupportedException">The element type is not in <see cref="IsSupported"/>.</exception>
    public static OrtValue ToOrtValue(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        TensorProto.Types.DataType type = TensorData.TypeOf(tensor);
        if (!IsSupported(type))
        {
            throw new NotSupportedException($"Tensor '{tensor.Name}' has element type {type}, which ONNX Runtime's C# API cannot exchange.");
        }

        long[] shape = [.. tensor.Dims];
        if (type == TensorProto.Types.DataType.String)
        {
            long count = TensorData.ElementCount(tensor);
            if (tensor.StringData.Count != count)
            {
                throw new Diagnostics.CompressException(
                    Diagnostics.DiagnosticCodes.ModelInvalid,
                    $"Tensor '{tensor.Name}' holds {tensor.StringData.Count} strings; its shape needs {count}.");
            }

            OrtValue strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
            for (int i = 0; i < count; i++)
            {
                strings.StringTensorSetElementAt(tensor.StringData[i].Span, i);
            }

            return strings;
        }

        byte[] bytes = TensorElementBytes.Read(tensor);
        OrtValue value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)type, shape);
        bytes.CopyTo(value.GetTensorMutableRawData());
        return value;
    }

    /// <summary>Copies an ORT tensor into a new <see cref="TensorProto"/> (raw_data, or string_data for strings).</summary>
    /// <exception cref="NotSupportedException">The value is not a tensor (sequence, map, optional) or has an unsupported type.</exception>
    public static TensorProto ToTensorProto(OrtValue value, string name)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.OnnxType != OnnxValueType.ONNX_TYPE_TENSOR)
        {
            throw new NotSupportedException($"Value '{name}' is a {value.OnnxType}, not a tensor.");
        }

        OrtTensorTypeAndShapeInfo info = value.GetTensorTypeAndShape();
        var type = (TensorProto.Types.DataType)(int)info.ElementDataType;
        if (!IsSupported(type))
        {
            throw new NotSupportedException($"Value '{name}' has element type {info.ElementDataType}, which cannot be converted.");
        }

        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.Add(info.Shape);
        if (type == TensorProto.Types.DataType.String)
        {
            for (int i = 0; i < info.ElementCount; i++)
            {
                tensor.StringData.Add(ByteString.CopyFrom(Encoding.UTF8.GetBytes(value.GetStringElement(i))));
            }

            return tensor;
        }

        tensor.RawData = ByteString.CopyFrom(value.GetTensorMutableRawData());
        return tensor;
    }
}
