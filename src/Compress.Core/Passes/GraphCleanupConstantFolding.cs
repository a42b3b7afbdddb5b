using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using DataType = Compress.Core.Onnx.Proto.TensorProto.Types.DataType;

namespace Compress.Core.Passes;

/// <summary>
/// Evaluates a node whose inputs are all constants, for a small set of ops on float32, int64 and
/// int32 tensors: Reshape, Transpose, Unsqueeze, Squeeze, Flatten, Cast, Add, Sub, Mul, Div,
/// Concat and Shape. Anything else (other types, other ops, unusual attributes) is left to the
/// runtime: the folder returns null rather than guess.
/// </summary>
internal static class GraphCleanupConstantFolding
{
    /// <summary>Op types the folder can evaluate.</summary>
    public static readonly IReadOnlySet<string> FoldableOps = new HashSet<string>(StringComparer.Ordinal)
    {
        "Reshape", "Transpose", "Unsqueeze", "Squeeze", "Flatten", "Cast", "Add", "Sub", "Mul", "Div", "Concat", "Shape",
    };

    /// <summary>The value of <paramref name="node"/>'s single output, or null when it cannot (or should not) be folded.</summary>
    public static TensorProto? TryEvaluate(GraphScope scope, NodeProto node, long opset, long maxElements)
    {
        if (!ModelGraph.IsDefaultDomain(node.Domain) || !FoldableOps.Contains(node.OpType) || node.Output.Count != 1 || node.Input.Count == 0)
        {
            return null;
        }

        var inputs = new List<Value?>();
        foreach (string name in node.Input)
        {
            if (name.Length == 0)
            {
                inputs.Add(null);
                continue;
            }

            if (scope.FindConstant(name)?.Value is not { } tensor || TensorData.IsExternal(tensor) || Value.From(tensor) is not { } value)
            {
                return null;
            }

            inputs.Add(value);
        }

        if (inputs[0] is null)
        {
            return null;
        }

        Value? result;
        try
        {
            result = Evaluate(node, inputs, opset);
        }
        catch (FoldingNotSupportedException)
        {
            return null;
        }

        return result is null || result.Count > maxElements ? null : result.ToTensor(node.Output[0]);
    }

    private static Value? Evaluate(NodeProto node, List<Value?> inputs, long opset)
    {
        Value x = inputs[0]!;
        Value? Input(int i) => i < inputs.Count ? inputs[i] : null;
        switch (node.OpType)
        {
            case "Add" or "Sub" or "Mul" or "Div":
                return Input(1) is { } y ? Binary(node.OpType, x, y) : null;
            case "Cast":
                return Cast(x, (DataType)ModelGraph.GetInt(node, "to", 0));
            case "Shape":
                return ShapeOf(x, node);
            case "Reshape":
                return Input(1) is { Type: DataType.Int64 } shape ? Reshape(x, shape.Ints!, ModelGraph.GetInt(node, "allowzero", 0) != 0) : null;
            case "Flatten":
                return Flatten(x, ModelGraph.GetInt(node, "axis", 1));
            case "Transpose":
                return Transpose(x, Ints(node, "perm") ?? Enumerable.Range(0, x.Dims.Length).Reverse().Select(i => (long)i).ToArray());
            case "Unsqueeze":
                long[]? unsqueezeAxes = opset >= 13 ? Input(1)?.Ints : Ints(node, "axes");
                return unsqueezeAxes is null ? null : Unsqueeze(x, unsqueezeAxes);
            case "Squeeze":
                return Squeeze(x, opset >= 13 ? Input(1)?.Ints : Ints(node, "axes"));
            case "Concat":
                return inputs.Any(i => i is null) ? null : Concat(inputs!, ModelGraph.GetInt(node, "axis", 0));
            default:
                return null;
        }
    }

    private static long[]? Ints(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray();

    private static Value Binary(string op, Value a, Value b)
    {
        if (a.Type != b.Type)
        {
            throw new FoldingNotSupportedException();
        }

        long[] dims = BroadcastDims(a.Dims, b.Dims);
        long count = Product(dims);
        long[] aIndex = BroadcastIndex(a.Dims, dims);
        long[] bIndex = BroadcastIndex(b.Dims, dims);
        if (a.Type == DataType.Float)
        {
            var result = new float[count];
            for (long i = 0; i < count; i++)
            {
                float p = a.Floats![aIndex[i]], q = b.Floats![bIndex[i]];
                result[i] = op switch { "Add" => p + q, "Sub" => p - q, "Mul" => p * q, _ => p / q };
            }

            return new Value(a.Type, dims, result, null);
        }

        var ints = new long[count];
        for (long i = 0; i < count; i++)
        {
            long p = a.Ints![aIndex[i]], q = b.Ints![bIndex[i]];
            if (op == "Div" && q == 0)
            {
                throw new FoldingNotSupportedException();
            }

            // Integer Div truncates toward zero, as C++ (and ONNX Runtime) does.
            ints[i] = op switch { "Add" => p + q, "Sub" => p - q, "Mul" => p * q, _ => p / q };
        }

        return new Value(a.Type, dims, null, ints).Wrapped();
    }

    private static Value Cast(Value x, DataType to)
    {
        if (to == x.Type)
        {
            return x;
        }

        if (to == DataType.Float)
        {
            return new Value(to, x.Dims, x.Ints!.Select(v => (float)v).ToArray(), null);
        }

        if (to is not (DataType.Int64 or DataType.Int32))
        {
            throw new FoldingNotSupportedException();
        }

        if (x.Type == DataType.Float)
        {
            // Out-of-range or non-finite float → int casts are implementation-defined: leave them to the runtime.
            double limit = to == DataType.Int32 ? int.MaxValue : 9.2e18;
            if (x.Floats!.Any(v => !float.IsFinite(v) || Math.Abs(v) > limit))
            {
                throw new FoldingNotSupportedException();
            }

            return new Value(to, x.Dims, null, x.Floats!.Select(v => (long)v).ToArray());
        }

        return new Value(to, x.Dims, null, x.Ints).Wrapped();
    }

    private static Value ShapeOf(Value x, NodeProto node)
    {
        long rank = x.Dims.Length;
        long start = ModelGraph.GetInt(node, "start", 0);
        long end = ModelGraph.GetInt(node, "end", rank);
        start = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        end = Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        long[] dims = x.Dims.Skip((int)start).Take((int)Math.Max(0, end - start)).ToArray();
        return new Value(DataType.Int64, [dims.Length], null, dims);
    }

    private static Value Reshape(Value x, long[] shape, bool allowZero)
    {
        long[] dims = shape.ToArray();
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == 0 && !allowZero)
            {
                dims[i] = i < x.Dims.Length ? x.Dims[i] : throw new FoldingNotSupportedException();
            }
        }

        int inferred = Array.IndexOf(dims, -1L);
        if (inferred >= 0)
        {
            long known = dims.Where((d, i) => i != inferred).Aggregate(1L, (a, b) => a * b);
            if (known == 0 || x.Count % known != 0)
            {
                throw new FoldingNotSupportedException();
            }

            dims[inferred] = x.Count / known;
        }

        if (dims.Any(d => d < 0) || Product(dims) != x.Count)
        {
            throw new FoldingNotSupportedException();
        }

        return x with { Dims = dims };
    }

    private static Value Flatten(Value x, long axis)
    {
        long rank = x.Dims.Length;
        axis = axis < 0 ? axis + rank : axis;
        if (axis < 0 || axis > rank)
        {
            throw new FoldingNotSupportedException();
        }

        return x with { Dims = [Product(x.Dims.Take((int)axis)), Product(x.Dims.Skip((int)axis))] };
    }

    private static Value Unsqueeze(Value x, long[] axes)
    {
        int rank = x.Dims.Length + axes.Length;
        var normalized = axes.Select(a => a < 0 ? a + rank : a).ToHashSet();
        if (normalized.Count != axes.Length || normalized.Any(a => a < 0 || a >= rank))
        {
            throw new FoldingNotSupportedException();
        }

        var dims = new long[rank];
        for (int i = 0, j = 0; i < rank; i++)
        {
            dims[i] = normalized.Contains(i) ? 1 : x.Dims[j++];
        }

        return x with { Dims = dims };
    }

    private static Value Squeeze(Value x, long[]? axes)
    {
        int rank = x.Dims.Length;
        HashSet<long> squeezed = axes is null
            ? Enumerable.Range(0, rank).Where(i => x.Dims[i] == 1).Select(i => (long)i).ToHashSet()
            : axes.Select(a => a < 0 ? a + rank : a).ToHashSet();
        if (squeezed.Any(a => a < 0 || a >= rank || x.Dims[a] != 1))
        {
            throw new FoldingNotSupportedException();
        }

        return x with { Dims = x.Dims.Where((_, i) => !squeezed.Contains(i)).ToArray() };
    }

    private static Value Transpose(Value x, long[] perm)
    {
        int rank = x.Dims.Length;
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
        {
            throw new FoldingNotSupportedException();
        }

        long[] dims = perm.Select(p => x.Dims[p]).ToArray();
        long[] inStrides = Strides(x.Dims);
        long count = x.Count;
        var source = new long[count];
        var index = new long[rank];
        for (long o = 0; o < count; o++)
        {
            long offset = 0;
            for (int d = 0; d < rank; d++)
            {
                offset += index[d] * inStrides[perm[d]];
            }

            source[o] = offset;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < dims[d])
                {
                    break;
                }

                index[d] = 0;
            }
        }

        return x.Gather(dims, source);
    }

    private static Value Concat(List<Value> parts, long axis)
    {
        Value first = parts[0];
        int rank = first.Dims.Length;
        axis = axis < 0 ? axis + rank : axis;
        if (axis < 0 || axis >= rank || parts.Any(p => p.Type != first.Type || p.Dims.Length != rank
            || Enumerable.Range(0, rank).Any(d => d != axis && p.Dims[d] != first.Dims[d])))
        {
            throw new FoldingNotSupportedException();
        }

        long[] dims = first.Dims.ToArray();
        dims[axis] = parts.Sum(p => p.Dims[axis]);
        long outer = Product(first.Dims.Take((int)axis));
        var floats = first.Type == DataType.Float ? new List<float>() : null;
        var ints = first.Type == DataType.Float ? null : new List<long>();
        for (long o = 0; o < outer; o++)
        {
            foreach (Value p in parts)
            {
                long block = Product(p.Dims.Skip((int)axis));
                floats?.AddRange(p.Floats!.Skip((int)(o * block)).Take((int)block));
                ints?.AddRange(p.Ints!.Skip((int)(o * block)).Take((int)block));
            }
        }

        return new Value(first.Type, dims, floats?.ToArray(), ints?.ToArray());
    }

    private static long[] BroadcastDims(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var dims = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long p = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            long q = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            dims[i] = p == q || q == 1 ? p : p == 1 ? q : throw new FoldingNotSupportedException();
        }

        return dims;
    }

    /// <summary>For every element of the broadcast result, the index of the element of an input with <paramref name="dims"/>.</summary>
    private static long[] BroadcastIndex(long[] dims, long[] resultDims)
    {
        int rank = resultDims.Length;
        long[] padded = [.. Enumerable.Repeat(1L, rank - dims.Length), .. dims];
        long[] strides = Strides(padded);
        long count = Product(resultDims);
        var result = new long[count];
        var index = new long[rank];
        for (long o = 0; o < count; o++)
        {
            long offset = 0;
            for (int d = 0; d < rank; d++)
            {
                offset += padded[d] == 1 ? 0 : index[d] * strides[d];
            }

            result[o] = offset;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < resultDims[d])
                {
                    break;
                }

                index[d] = 0;
            }
        }

        return result;
    }

    private static long[] Strides(long[] dims)
    {
        var strides = new long[dims.Length];
        long stride = 1;
        for (int d = dims.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= dims[d];
        }

        return strides;
    }

    private static long Product(IEnumerable<long> dims) => dims.Aggregate(1L, (a, b) => a * b);

    /// <summary>A constant tensor being folded: float32 values, or int64/int32 values held as long.</summary>
    private sealed record Value(DataType Type, long[] Dims, float[]? Floats, long[]? Ints)
    {
        public long Count => Floats?.Length ?? Ints!.Length;

        public static Value? From(TensorProto tensor)
        {
            long[] dims = tensor.Dims.ToArray();
            return (DataType)tensor.DataType switch
            {
                DataType.Float => new Value(DataType.Float, dims, TensorData.ReadFloats(tensor), null),
                DataType.Int64 => new Value(DataType.Int64, dims, null, TensorData.ReadInt64s(tensor)),
                DataType.Int32 => new Value(DataType.Int32, dims, null, TensorData.ReadInt32s(tensor).Select(v => (long)v).ToArray()),
                _ => null,
            };
        }

        /// <summary>int32 results wrap like 32-bit arithmetic does.</summary>
        public Value Wrapped() => Type == DataType.Int32 ? this with { Ints = Ints!.Select(v => (long)unchecked((int)v)).ToArray() } : this;

        public Value Gather(long[] dims, long[] source) => new(
            Type,
            dims,
            Floats is null ? null : source.Select(i => Floats[i]).ToArray(),
            Ints is null ? null : source.Select(i => Ints[i]).ToArray());

        public TensorProto ToTensor(string name) => Type switch
        {
            DataType.Float => TensorData.CreateFloat(name, Dims, Floats!),
            DataType.Int32 => TensorData.CreateInt32(name, Dims, Ints!.Select(v => (int)v).ToArray()),
            _ => TensorData.CreateInt64(name, Dims, Ints!),
        };
    }

    /// <summary>Thrown inside the evaluator when an input combination is outside what it folds.</summary>
    private sealed class FoldingNotSupportedException : Exception
    {
    }
}
