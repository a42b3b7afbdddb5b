using System.Globalization;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Onnx;

/// <summary>
/// Moves tensor data of a (cloned) model into one data file: each tensor with at least
/// <see cref="OnnxSaveOptions.MinExternalTensorBytes"/> bytes of <c>raw_data</c> is appended at an
/// offset aligned to <see cref="OnnxSaveOptions.ExternalDataAlignment"/> and replaced by a reference
/// (location/offset/length), as onnx's <c>save_as_external_data(all_tensors_to_one_file=True)</c> does.
/// Tensors stored in typed fields (float_data, ...) and string tensors stay inline.
/// </summary>
internal static class ExternalDataWriter
{
    /// <summary>Writes the data to <paramref name="data"/>; returns how many tensors were moved.</summary>
    public static int MoveToExternal(ModelProto copy, Stream data, string location, OnnxSaveOptions options)
    {
        int moved = 0;
        long position = 0;
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        foreach (OnnxTensorSite site in OnnxModelWalker.Tensors(copy))
        {
            TensorProto tensor = site.Tensor;
            if (!tensor.HasRawData || tensor.RawData.Length < options.MinExternalTensorBytes
                || tensor.DataType == (int)TensorProto.Types.DataType.String)
            {
                continue;
            }

            long aligned = AlignUp(position, options.ExternalDataAlignment);
            for (long pad = aligned - position; pad > 0; pad -= Math.Min(pad, zeros.Length))
            {
                data.Write(zeros[..(int)Math.Min(pad, zeros.Length)]);
            }

            int length = tensor.RawData.Length;
            data.Write(tensor.RawData.Span);
            tensor.ClearRawData();
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.ExternalData.Clear();
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = aligned.ToString(CultureInfo.InvariantCulture) });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(CultureInfo.InvariantCulture) });
            position = aligned + length;
            moved++;
        }

        return moved;
    }

    private static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;
}
