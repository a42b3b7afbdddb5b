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
/// <remarks>
/// Sparse tensors go too: the <c>values</c> and <c>indices</c> of a SparseTensorProto are TensorProtos, and
/// ONNX allows external data on both. ONNX Runtime (1.31) reads both back for the main graph's sparse
/// initializers. Everywhere else (sparse initializers of If/Loop/Scan bodies, sparse tensors in node
/// attributes) the indices stay inline: ONNX Runtime runs the ONNX checker on those nodes, and the checker's
/// sparse-index check parses the indices with <c>ParseData</c>, which fails on external tensors
/// ("Cannot parse data from external tensors"). Their values may still go external.
/// </remarks>
internal static class ExternalDataWriter
{
    /// <summary>Writes the data to <paramref name="data"/>; returns how many tensors were moved.</summary>
    public static int MoveToExternal(ModelProto copy, Stream data, string location, OnnxSaveOptions options)
    {
        int moved = 0;
        long position = 0;
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        HashSet<TensorProto> inline = IndicesTheCheckerParses(copy);
        foreach (OnnxTensorSite site in OnnxModelWalker.Tensors(copy))
        {
            TensorProto tensor = site.Tensor;
            if (!tensor.HasRawData || tensor.RawData.Length < options.MinExternalTensorBytes
                || tensor.DataType == (int)TensorProto.Types.DataType.String || inline.Contains(tensor))
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

    /// <summary>
    /// The indices of every sparse tensor except the main graph's sparse initializers: those ONNX Runtime
    /// hands to the ONNX checker, which cannot read them from external data (see the remarks above).
    /// </summary>
    private static HashSet<TensorProto> IndicesTheCheckerParses(ModelProto model)
    {
        var result = new HashSet<TensorProto>(ReferenceEqualityComparer.Instance);
        foreach (GraphProto graph in OnnxModelWalker.Graphs(model))
        {
            if (!ReferenceEquals(graph, model.Graph))
            {
                AddIndices(graph.SparseInitializer, result);
            }

            foreach (NodeProto node in graph.Node)
            {
                AddIndices(node.Attribute, result);
            }
        }

        foreach (FunctionProto function in model.Functions)
        {
            foreach (NodeProto node in function.Node)
            {
                AddIndices(node.Attribute, result);
            }

            AddIndices(function.AttributeProto, result);
        }

        return result;
    }

    private static void AddIndices(IEnumerable<AttributeProto> attributes, HashSet<TensorProto> result)
    {
        foreach (AttributeProto attribute in attributes)
        {
            AddIndices(attribute.SparseTensors.Prepend(attribute.SparseTensor), result);
        }
    }

    private static void AddIndices(IEnumerable<SparseTensorProto?> sparseTensors, HashSet<TensorProto> result)
    {
        foreach (SparseTensorProto? sparse in sparseTensors)
        {
            if (sparse?.Indices is not null)
            {
                result.Add(sparse.Indices);
            }
        }
    }

    private static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;
}
