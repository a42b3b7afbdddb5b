using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Compress.Runtime.DependencyInjection;

/// <summary>
/// Registers compressed models as keyed singletons: resolve one with
/// <c>provider.GetRequiredKeyedService&lt;CompressedModel&gt;(name)</c> or a
/// <c>[FromKeyedServices("name")] CompressedModel</c> parameter. The model is loaded on first use, its load is
/// logged through <see cref="ILogger"/> (category <c>Compress.Runtime.CompressedModel</c>), and the container
/// disposes it.
/// </summary>
public static class CompressedModelServiceCollectionExtensions
{
    /// <summary>The logger category of load messages.</summary>
    public const string LoggerCategory = "Compress.Runtime.CompressedModel";

    /// <summary>Registers the model file at <paramref name="path"/> under <paramref name="name"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The key to resolve the model with.</param>
    /// <param name="path">The <c>.onnx</c> or <c>.onnx.br</c> file (relative to <see cref="AppContext.BaseDirectory"/> unless rooted).</param>
    /// <param name="configureOptions">Adjusts the session options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddCompressedModel(this IServiceCollection services, string name, string path, Action<CompressedModelOptions>? configureOptions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return services.AddCompressedModel(name, settings =>
        {
            settings.Path = path;
            configureOptions?.Invoke(settings.Options);
        });
    }

    /// <summary>Registers a model under <paramref name="name"/> whose settings <paramref name="configure"/> fills in.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The key to resolve the model with; also the name of its <see cref="CompressedModelSettings"/> options.</param>
    /// <param name="configure">Sets the path and options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddCompressedModel(this IServiceCollection services, string name, Action<CompressedModelSettings> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddSettings(services, name).Configure(configure);
        return AddModel(services, name);
    }

    /// <summary>
    /// Registers a model under <paramref name="name"/> with settings bound from a configuration section, for
    /// example <c>{ "Path": "models/digits.onnx", "IntraOpNumThreads": 1, "GraphOptimizationLevel": "ORT_ENABLE_ALL" }</c>.
    /// The <see cref="CompressedModelOptions"/> properties may sit in the section itself or under <c>Options</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The key to resolve the model with.</param>
    /// <param name="configuration">The section (for example <c>configuration.GetSection("Models:digits")</c>).</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddCompressedModel(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddSettings(services, name).Configure(settings => Bind(configuration, settings));
        return AddModel(services, name);
    }

    /// <summary>
    /// Registers a <see cref="CompressedModelPool"/> of <see cref="CompressedModelSettings.SessionCount"/> sessions
    /// under <paramref name="name"/>, with settings bound from a configuration section as for
    /// <see cref="AddCompressedModel(IServiceCollection, string, IConfiguration)"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The key to resolve the pool with.</param>
    /// <param name="configuration">The section.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddCompressedModelPool(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddSettings(services, name).Configure(settings => Bind(configuration, settings));
        return AddPool(services, name);
    }

    /// <summary>Registers a <see cref="CompressedModelPool"/> under <paramref name="name"/> whose settings <paramref name="configure"/> fills in.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The key to resolve the pool with.</param>
    /// <param name="configure">Sets the path, session count and options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddCompressedModelPool(this IServiceCollection services, string name, Action<CompressedModelSettings> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddSettings(services, name).Configure(configure);
        return AddPool(services, name);
    }

    private static OptionsBuilder<CompressedModelSettings> AddSettings(IServiceCollection services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return services.AddOptions<CompressedModelSettings>(name)
            .Validate(s => !string.IsNullOrWhiteSpace(s.Path), $"Compressed model '{name}' has no Path: set it in its configuration section or pass it to AddCompressedModel.")
            .Validate(s => s.SessionCount >= 1, $"Compressed model '{name}' needs a SessionCount of at least 1.");
    }

    private static void Bind(IConfiguration configuration, CompressedModelSettings settings)
    {
        configuration.Bind(settings);

        // The options' own properties may also sit flat in the section next to Path.
        configuration.Bind(settings.Options);
    }

    private static IServiceCollection AddModel(IServiceCollection services, string name)
    {
        services.AddKeyedSingleton(name, static (provider, key) =>
        {
            string registration = (string)key!;
            CompressedModelSettings settings = provider.GetRequiredService<IOptionsMonitor<CompressedModelSettings>>().Get(registration);
            ILogger logger = Logger(provider);
            string path = settings.ResolvedPath;
            try
            {
                CompressedModel model = CompressedModel.Load(path, settings.Options);
                LogLoaded(logger, registration, model, model.LoadTime, 1);
                return model;
            }
            catch (CompressedModelException e)
            {
                ModelLoadLog.LoadFailed(logger, e, registration, path);
                throw;
            }
        });
        return services;
    }

    private static IServiceCollection AddPool(IServiceCollection services, string name)
    {
        services.AddKeyedSingleton(name, static (provider, key) =>
        {
            string registration = (string)key!;
            CompressedModelSettings settings = provider.GetRequiredService<IOptionsMonitor<CompressedModelSettings>>().Get(registration);
            ILogger logger = Logger(provider);
            string path = settings.ResolvedPath;
            try
            {
                CompressedModelPool pool = CompressedModelPool.Load(path, settings.SessionCount, settings.Options);
                TimeSpan total = pool.Models.Aggregate(TimeSpan.Zero, (sum, m) => sum + m.LoadTime);
                LogLoaded(logger, registration, pool.Models[0], total, pool.Models.Count);
                return pool;
            }
            catch (CompressedModelException e)
            {
                ModelLoadLog.LoadFailed(logger, e, registration, path);
                throw;
            }
        });
        return services;
    }

    private static ILogger Logger(IServiceProvider provider) =>
        provider.GetService<ILoggerFactory>()?.CreateLogger(LoggerCategory) ?? NullLogger.Instance;

    private static void LogLoaded(ILogger logger, string registration, CompressedModel model, TimeSpan loadTime, int sessions)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            string compression = model.Compression?.ToString() ?? "none recorded (not built by Compress)";
            ModelLoadLog.Loaded(logger, registration, model.Name, model.Source, model.SizeInBytes, loadTime.TotalMilliseconds, sessions, compression);
        }
    }
}
