using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Core.Onnx;

/// <summary>
/// Moves weights with many zeros from <c>graph.initializer</c> to <c>graph.sparse_initializer</c>
/// (<see cref="Store"/>) and back (<see cref="Densify"/>). A sparse initializer keeps the non-zero values
/// and their linear positions; ONNX Runtime turns it back into the same dense tensor when it loads the
/// model, so the outputs do not change, only the file gets smaller.
/// </summary>
/// <remarks>
/// In the main graph the positions use the narrowest integer type that holds the largest one (int8, int16,
/// int32 or int64), as ONNX Runtime's own sparsifier writes them; ONNX Runtime reads all four from raw data.
/// Subgraphs (If/Loop/Scan bodies) get int64 positions: ONNX Runtime runs the ONNX checker on the nodes that
/// hold them, and the checker, like the ONNX standard, accepts int64 indices only.
/// </remarks>
public static class SparseInitializerStorage
{
    /// <summary>Weight element types that may be stored sparse (floating point and 8-bit quantized weights).</summary>
    private static readonly HashSet<TensorProto.Types.DataType> WeightTypes =
    [
        TensorProto.Types.DataType.Float,
        TensorProto.Types.DataType.Float16,
        TensorProto.Types.DataType.Bfloat16,
        TensorProto.Types.DataType.Double,
        TensorProto.Types.DataType.Int8,
        TensorProto.Types.DataType.Uint8,
    ];

    /// <summary>
    /// Replaces every weight initializer (main graph and subgraphs) whose sparse encoding serializes smaller
    /// than its dense one by a sparse initializer. Zeros are bit patterns of all zero bytes, so <c>-0.0</c>
    /// stays a stored value and the dense tensor ONNX Runtime rebuilds is bit for bit the original.
    /// Initializers that are also graph inputs (overridable) or graph outputs stay dense.
    /// Run it last, just before saving: passes read <c>graph.initializer</c> only.
    /// </summary>
    public static SparseStorageSummary Store(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int stored = 0;
        long denseBytes = 0, sparseBytes = 0;
        foreach (GraphProto graph in OnnxModelWalker.Graphs(model))
        {
            var boundary = new HashSet<string>(graph.Input.Select(i => i.Name).Concat(graph.Output.Select(o => o.Name)), StringComparer.Ordinal);
            for (int i = 0; i < graph.Initializer.Count; i++)
            {
                TensorProto dense = graph.Initializer[i];
                if (boundary.Contains(dense.Name) || !WeightTypes.Contains(TensorData.TypeOf(dense)) || TensorData.IsExternal(dense))
                {
                    continue;
                }

                bool int64Indices = !ReferenceEquals(graph, model.Graph);
                if (!CanShrink(dense, int64Indices))
                {
                    continue;
                }

                SparseTensorProto sparse = ToSparse(dense, int64Indices);
                long sparseSize = FieldSize(sparse.CalculateSize());
                long denseSize = FieldSize(dense.CalculateSize());
                if (sparseSize >= denseSize)
                {
                    continue;
                }

                graph.Initializer.RemoveAt(i--);
                graph.SparseInitializer.Add(sparse);
                stored++;
                denseBytes += denseSize;
                sparseBytes += sparseSize;
            }
        }

        return new SparseStorageSummary { Initializers = stored, DenseBytes = denseBytes, SparseBytes = sparseBytes };
    }

    /// <summary>
    /// Turns every sparse initializer of the model back into a dense initializer, so passes and measurements
    /// that read <c>graph.initializer</c> see it. Reads linear <c>[NNZ]</c> and coordinate <c>[NNZ, rank]</c>
    /// indices of any integer width ONNX Runtime accepts. Returns how many were converted.
    /// </summary>
    /// <exception cref="CompressException">CMP1002 when a sparse initializer is malformed.</exception>
    public static int Densify(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int converted = 0;
        foreach (GraphProto graph in OnnxModelWalker.Graphs(model))
        {
            foreach (SparseTensorProto sparse in graph.SparseInitializer)
            {
                graph.Initializer.Add(ToDense(sparse));
                converted++;
            }

            graph.SparseInitializer.Clear();
        }

        return converted;
    }

    /// <summary>
    /// The sparse form of a dense tensor: non-zero values in order and their linear positions, as int64 when
    /// <paramref name="int64Indices"/> is set, else in the narrowest type that holds them.
    /// </summary>
    public static SparseTensorProto ToSparse(TensorProto dense, bool int64Indices = false)
    {
        ArgumentNullException.ThrowIfNull(dense);
        TensorProto.Types.DataType type = TensorData.TypeOf(dense);
        int size = TensorData.ElementSize(type);
        byte[] bytes = TensorElementBytes.Read(dense);
        long count = bytes.Length / size;
        var positions = new List<long>();
        var values = new MemoryStream();
        for (long e = 0; e < count; e++)
        {
            ReadOnlySpan<byte> element = bytes.AsSpan((int)(e * size), size);
            if (element.ContainsAnyExcept((byte)0))
            {
                positions.Add(e);
                values.Write(element);
            }
        }

        var valueTensor = new TensorProto { Name = dense.Name, DataType = dense.DataType, RawData = ByteString.CopyFrom(values.GetBuffer(), 0, (int)values.Length) };
        valueTensor.Dims.Add(positions.Count);
        var sparse = new SparseTensorProto { Values = valueTensor, Indices = Indices(positions, int64Indices ? long.MaxValue : positions.Count > 0 ? positions[^1] : 0) };
        sparse.Dims.AddRange(dense.Dims);
        return sparse;
    }

    /// <summary>The dense tensor a sparse tensor describes (zeros everywhere else).</summary>
    /// <exception cref="CompressException">CMP1002 when the indices or values do not fit the shape.</exception>
    public static TensorProto ToDense(SparseTensorProto sparse)
    {
        ArgumentNullException.ThrowIfNull(sparse);
        TensorProto values = sparse.Values ?? throw Malformed("(unnamed)", "it has no values tensor");
        string name = values.Name;
        int size = TensorData.ElementSize(TensorData.TypeOf(values));
        if (size == 0)
        {
            throw Malformed(name, $"its element type {TensorData.TypeOf(values)} has no fixed byte size");
        }

        long count = 1;
        foreach (long d in sparse.Dims)
        {
            count *= d;
        }

        byte[] valueBytes = TensorElementBytes.Read(values);
        long nnz = valueBytes.Length / size;
        long[] positions = LinearPositions(sparse, name, nnz);
        var bytes = new byte[count * size];
        for (int i = 0; i < positions.Length; i++)
        {
            if (positions[i] < 0 || positions[i] >= count)
            {
                throw Malformed(name, $"index {positions[i]} is outside its {count} elements");
            }

            valueBytes.AsSpan(i * size, size).CopyTo(bytes.AsSpan((int)(positions[i] * size), size));
        }

        return TensorData.Create(name, [.. sparse.Dims], TensorData.TypeOf(values), bytes);
    }

    /// <summary>Bytes a message takes as a field of its graph: one tag byte (fields 5 and 15), the length, the message.</summary>
    private static long FieldSize(int messageSize) => 1L + CodedOutputStream.ComputeLengthSize(messageSize) + messageSize;

    /// <summary>
    /// False when the sparse form's values and positions would take at least the dense bytes: decided from the count
    /// of non-zero elements and the last one's position (which sets the positions' width), before building anything.
    /// A mostly dense 1 GB weight would otherwise be copied into a sparse form over protobuf's 2 GB limit, whose
    /// 32-bit size then overflows and compares as smaller.
    /// </summary>
    private static bool CanShrink(TensorProto dense, bool int64Indices)
    {
        int size = TensorData.ElementSize(TensorData.TypeOf(dense));
        ReadOnlySpan<byte> bytes = dense.HasRawData ? dense.RawData.Span : TensorElementBytes.Read(dense);
        (long zeros, long last) = size switch
        {
            1 => (bytes.Count((byte)0), bytes.LastIndexOfAnyExcept((byte)0)),
            2 => ZerosAndLastNonZero(MemoryMarshal.Cast<byte, ushort>(bytes)),
            4 => ZerosAndLastNonZero(MemoryMarshal.Cast<byte, uint>(bytes)),
            _ => ZerosAndLastNonZero(MemoryMarshal.Cast<byte, ulong>(bytes)),
        };
        long nonZero = (bytes.Length / size) - zeros;
        int width = int64Indices ? 8 : IndexType(Math.Max(last, 0)).Width;
        return nonZero * (size + width) < bytes.Length;
    }

    private static (long Zeros, long Last) ZerosAndLastNonZero<T>(ReadOnlySpan<T> elements)
        where T : unmanaged, IEquatable<T> =>
        (elements.Count(default(T)), elements.LastIndexOfAnyExcept(default(T)));

    /// <summary>The narrowest position type that holds <paramref name="largest"/>, as ONNX Runtime's own sparsifier writes them.</summary>
    private static (TensorProto.Types.DataType Type, int Width) IndexType(long largest) => largest switch
    {
        <= sbyte.MaxValue => (TensorProto.Types.DataType.Int8, 1),
        <= short.MaxValue => (TensorProto.Types.DataType.Int16, 2),
        <= int.MaxValue => (TensorProto.Types.DataType.Int32, 4),
        _ => (TensorProto.Types.DataType.Int64, 8),
    };

    private static TensorProto Indices(List<long> positions, long largest)
    {
        (TensorProto.Types.DataType type, int width) = IndexType(largest);
        var bytes = new byte[positions.Count * width];
        for (int i = 0; i < positions.Count; i++)
        {
            Span<byte> slot = bytes.AsSpan(i * width, width);
            switch (width)
            {
                case 1: slot[0] = (byte)(sbyte)positions[i]; break;
                case 2: BinaryPrimitives.WriteInt16LittleEndian(slot, (short)positions[i]); break;
                case 4: BinaryPrimitives.WriteInt32LittleEndian(slot, (int)positions[i]); break;
                default: BinaryPrimitives.WriteInt64LittleEndian(slot, positions[i]); break;
            }
        }

        var indices = new TensorProto { DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        indices.Dims.Add(positions.Count);
        return indices;
    }

    /// <summary>The indices as linear element positions, from either layout ONNX allows.</summary>
    private static long[] LinearPositions(SparseTensorProto sparse, string name, long nnz)
    {
        TensorProto indices = sparse.Indices ?? throw Malformed(name, "it has no indices tensor");
        long[] raw = TensorData.TypeOf(indices) switch
        {
            TensorProto.Types.DataType.Int64 => TensorData.ReadInt64s(indices),
            TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Int8
                => [.. TensorData.ReadInt32s(indices).Select(v => (long)v)],
            _ => throw Malformed(name, $"its indices have type {TensorData.TypeOf(indices)}; int8, int16, int32 or int64 are allowed"),
        };
        int rank = sparse.Dims.Count;
        if (indices.Dims.Count == 1 && raw.Length == nnz)
        {
            return raw;
        }

        if (indices.Dims.Count == 2 && indices.Dims[1] == rank && raw.Length == nnz * rank)
        {
            var linear = new long[nnz];
            for (long i = 0; i < nnz; i++)
            {
                long position = 0;
                for (int axis = 0; axis < rank; axis++)
                {
                    position = (position * sparse.Dims[axis]) + raw[(i * rank) + axis];
                }

                linear[i] = position;
            }

            return linear;
        }

        throw Malformed(name, $"its indices have shape [{string.Join(", ", indices.Dims)}] for {nnz} values of a rank-{rank} tensor; [NNZ] or [NNZ, rank] are allowed");
    }

    private static CompressException Malformed(string name, string problem) =>
        new(DiagnosticCodes.ModelInvalid, $"Sparse initializer '{name}' is malformed: {problem}.");
}
