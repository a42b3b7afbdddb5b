namespace Compress.Tasks { internal static class Placeholder { } }
