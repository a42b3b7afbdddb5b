using System.Numerics.Tensors;

namespace Compress.Runtime;

/// <summary>
/// Several ONNX Runtime sessions of one model, for throughput when many threads run small inputs: each call
/// goes to the session with the fewest calls in progress. Results are the same as from one
/// <see cref="CompressedModel"/> (every session is loaded from the same bytes with the same options).
/// </summary>
/// <remarks>
/// One <see cref="CompressedModel"/> is already safe to share between threads; a pool helps when one session
/// with one intra-op thread per call leaves cores idle, or when a session's intra-op threads contend.
/// <see cref="Load(string, int, CompressedModelOptions?)"/> gives each session one intra-op thread unless the
/// options set another number, so <c>sessionCount</c> sessions use about <c>sessionCount</c> cores.
/// All members are thread-safe; do not call <see cref="Dispose"/> while a run is in progress.
/// </remarks>
public sealed class CompressedModelPool : IDisposable
{
    private readonly CompressedModel[] _models;
    private readonly int[] _inProgress;
    private int _next;
    private int _disposed;

    private CompressedModelPool(CompressedModel[] models)
    {
        _models = models;
        _inProgress = new int[models.Length];
    }

    /// <summary>The model's name (see <see cref="CompressedModel.Name"/>).</summary>
    public string Name => _models[0].Name;

    /// <summary>The sessions of the pool, each a complete model.</summary>
    public IReadOnlyList<CompressedModel> Models => _models;

    /// <summary>The inputs the caller must provide, in model order.</summary>
    public IReadOnlyList<ModelTensorInfo> Inputs => _models[0].Inputs;

    /// <summary>The outputs the model produces, in model order.</summary>
    public IReadOnlyList<ModelTensorInfo> Outputs => _models[0].Outputs;

    /// <summary>What the Compress build recorded about the model, or <see langword="null"/> (see <see cref="CompressedModel.Compression"/>).</summary>
    public CompressionInfo? Compression => _models[0].Compression;

    /// <summary>Loads <paramref name="sessionCount"/> sessions of a model file (<c>.onnx</c> or <c>.onnx.br</c>).</summary>
    /// <param name="path">The model file.</param>
    /// <param name="sessionCount">How many sessions (for example the number of cores).</param>
    /// <param name="options">Session settings, or <see langword="null"/> for the defaults; an <see cref="CompressedModelOptions.IntraOpNumThreads"/> of 0 becomes 1 per session.</param>
    /// <exception cref="CompressedModelException">The file is missing, unreadable or not a valid model.</exception>
    public static CompressedModelPool Load(string path, int sessionCount, CompressedModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CompressedModelOptions perSession = options?.Clone() ?? new CompressedModelOptions();
        if (perSession.IntraOpNumThreads == 0)
        {
            perSession.IntraOpNumThreads = 1;
        }

        return Create(sessionCount, _ => CompressedModel.Load(path, perSession));
    }

    /// <summary>Builds a pool from models loaded by <paramref name="load"/> (for streams or embedded resources); every call must load the same model.</summary>
    /// <param name="sessionCount">How many sessions.</param>
    /// <param name="load">Loads session number <c>i</c> (0-based).</param>
    /// <exception cref="ArgumentException">The loaded models do not have the same inputs and outputs.</exception>
    public static CompressedModelPool Create(int sessionCount, Func<int, CompressedModel> load)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sessionCount, 1);
        ArgumentNullException.ThrowIfNull(load);
        var models = new List<CompressedModel>(sessionCount);
        try
        {
            for (int i = 0; i < sessionCount; i++)
            {
                CompressedModel model = load(i) ?? throw new InvalidOperationException("The load function returned null.");
                models.Add(model);
                if (model.ToString() != models[0].ToString())
                {
                    throw new ArgumentException($"Session {i} is {model}, but session 0 is {models[0]}: a pool holds one model.", nameof(load));
                }
            }
        }
        catch
        {
            foreach (CompressedModel model in models)
            {
                model.Dispose();
            }

            throw;
        }

        return new CompressedModelPool([.. models]);
    }

    /// <summary>Like <see cref="CompressedModel.Run(ReadOnlySpan{float}, ReadOnlySpan{long})"/> on the least busy session.</summary>
    /// <param name="input">The input elements in C order.</param>
    /// <param name="shape">The input dimensions.</param>
    /// <returns>The first output with its shape.</returns>
    public ModelOutput Run(ReadOnlySpan<float> input, ReadOnlySpan<long> shape)
    {
        int i = Acquire();
        try
        {
            return _models[i].Run(input, shape);
        }
        finally
        {
            Release(i);
        }
    }

    /// <summary>Like <see cref="CompressedModel.Run(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{float})"/> on the least busy session (allocation-free in the steady state).</summary>
    /// <param name="input">The input elements in C order.</param>
    /// <param name="inputShape">The input dimensions.</param>
    /// <param name="output">Receives the output.</param>
    public void Run(ReadOnlySpan<float> input, ReadOnlySpan<long> inputShape, Span<float> output)
    {
        int i = Acquire();
        try
        {
            _models[i].Run(input, inputShape, output);
        }
        finally
        {
            Release(i);
        }
    }

    /// <summary>Like <see cref="CompressedModel.Run(Tensor{float})"/> on the least busy session.</summary>
    /// <param name="input">The input; its lengths are the input shape.</param>
    /// <returns>The first output.</returns>
    public Tensor<float> Run(Tensor<float> input)
    {
        int i = Acquire();
        try
        {
            return _models[i].Run(input);
        }
        finally
        {
            Release(i);
        }
    }

    /// <summary>Like <see cref="CompressedModel.Run(IReadOnlyList{ModelInput}, IReadOnlyList{string})"/> on the least busy session.</summary>
    /// <param name="inputs">One value for each model input.</param>
    /// <param name="outputNames">The outputs wanted, or <see langword="null"/> for all of them.</param>
    /// <returns>The outputs in the order requested.</returns>
    public IReadOnlyList<ModelOutput> Run(IReadOnlyList<ModelInput> inputs, IReadOnlyList<string>? outputNames)
    {
        int i = Acquire();
        try
        {
            return _models[i].Run(inputs, outputNames);
        }
        finally
        {
            Release(i);
        }
    }

    /// <summary>Like <see cref="CompressedModel.RunAsync(IReadOnlyList{ModelInput}, IReadOnlyList{string}, CancellationToken)"/> on the least busy session.</summary>
    /// <param name="inputs">One value for each model input.</param>
    /// <param name="outputNames">The outputs wanted, or <see langword="null"/> for all of them.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The outputs in the order requested.</returns>
    public async Task<IReadOnlyList<ModelOutput>> RunAsync(IReadOnlyList<ModelInput> inputs, IReadOnlyList<string>? outputNames, CancellationToken cancellationToken)
    {
        int i = Acquire();
        try
        {
            return await _models[i].RunAsync(inputs, outputNames, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Release(i);
        }
    }

    /// <summary>Disposes every session. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (CompressedModel model in _models)
        {
            model.Dispose();
        }
    }

    /// <summary>Describes the pool like <c>digits-mlp x4 (input: Float32[batch,64] -> logits: Float32[batch,10])</c>.</summary>
    public override string ToString() => $"{Name} x{_models.Length} {_models[0].ToString()[Name.Length..].TrimStart()}";

    private int Acquire()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        // Start at a rotating index so ties spread over the sessions; take the first with the fewest calls.
        int start = (int)((uint)Interlocked.Increment(ref _next) % (uint)_models.Length);
        int best = start;
        int bestLoad = Volatile.Read(ref _inProgress[start]);
        for (int k = 1; k < _models.Length && bestLoad > 0; k++)
        {
            int i = (start + k) % _models.Length;
            int load = Volatile.Read(ref _inProgress[i]);
            if (load < bestLoad)
            {
                best = i;
                bestLoad = load;
            }
        }

        Interlocked.Increment(ref _inProgress[best]);
        return best;
    }

    private void Release(int index) => Interlocked.Decrement(ref _inProgress[index]);
}
