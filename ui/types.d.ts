// Types for the JSDoc annotations of the tab's scripts (checked by
// `tsc --noEmit` in `make lint`; nothing is emitted). The shapes are the
// backend's API as README.md and the API contract describe it.

interface DdServiceError { name?: string; message?: string; statusCode?: number; data?: unknown; body?: unknown; status?: number; response?: { status?: number } }

interface DdHttpService {
  get(url: string): Promise<unknown>;
  post(url: string, data: unknown): Promise<unknown>;
  put(url: string, data: unknown): Promise<unknown>;
  delete(url: string): Promise<unknown>;
  head?(url: string): Promise<unknown>;
  patch?(url: string, data: unknown): Promise<unknown>;
  request?(config: { url: string; method: string; headers?: Record<string, string>; data?: unknown }): Promise<unknown>;
}

interface DdNavigate {
  viewContainer?(id: string): Promise<void>;
  viewContainerLogs?(id: string): Promise<void>;
  viewVolume?(name: string): Promise<void>;
  viewImage?(id: string, tag: string): Promise<void>;
}

interface DdClient {
  standalone?: boolean;
  extension?: { vm?: { service?: DdHttpService } };
  desktopUI?: {
    toast?: { success?(m: string): void; warning?(m: string): void; error?(m: string): void; [k: string]: ((m: string) => void) | undefined };
    navigate?: DdNavigate;
  };
  host?: { openExternal?(url: string): void; platform?: string };
}

interface MuiThemeOptions { palette?: Record<string, any>; typography?: { fontFamily?: string } }

interface Window {
  ddClient?: DdClient;
  __ddMuiV6Themes?: { light?: MuiThemeOptions; dark?: MuiThemeOptions };
  __ddMuiV5Themes?: { light?: MuiThemeOptions; dark?: MuiThemeOptions };
  /** test aid: lets the backend's checks speak */
  __storjRegistrySkipClientChecks?: boolean;
}

type Mode = 'local' | 's3' | 'storj' | 'storj-hosted' | 'storj-native';

interface ApiErrorBody { code?: string; message?: string; hint?: string; field?: string }

interface CheckStep { id: string; ok: boolean | null; message?: string; fix?: string }
interface LastCheck { at?: string; ok: boolean; mode?: string; bucket?: string; steps?: CheckStep[]; canCreateBucket?: boolean; code?: string }
interface PendingChange { endpoint?: string; mode?: string; fields?: string[] }
interface ContainerInfo { role?: string; id?: string; name?: string; image?: string; state?: string; status?: string; health?: string }

interface CacheStatus {
  enabled?: boolean;
  state?: 'running' | 'unhealthy' | 'stopped' | 'starting' | string;
  healthy?: boolean;
  endpoint?: string;
  mirror?: string;
  /** the address it listens on (0.0.0.0 shows as localhost in endpoint) */
  bind?: string;
  upstream?: string;
  ttl?: string;
  storage?: string;
  error?: ApiErrorBody | null;
}

interface CacheConfig { enabled?: boolean; port?: number; upstream?: string; username?: string | null; token?: SecretFact | boolean | string | null; ttl?: string }

/** GET /api/status .index: the backend's index of what the registry holds */
interface IndexStatus {
  state?: string;
  repositories?: number;
  tags?: number;
  reconciledAt?: string | null;
  progress?: { repository?: string; done?: number; total?: number } | null;
  problem?: string | null;
  rebuilt?: string | null;
  events?: { listening?: boolean; received?: number; refused?: number };
}

interface Status {
  state: string;
  index?: IndexStatus | null;
  cache?: CacheStatus | null;
  mode?: string;
  endpoint?: string;
  configured?: boolean;
  progress?: { image?: string; current?: number; total?: number } | null;
  error?: (ApiErrorBody & { detail?: string; raw?: string }) | null;
  docker?: { reachable?: boolean; version?: string; apiVersion?: string };
  containers?: ContainerInfo[];
  job?: string | null;
  /** what the job at hand is doing: "pulling", "reading", "deleting", "read-only", "collecting", ... */
  phase?: string | null;
  pendingRestart?: boolean;
  pendingChange?: PendingChange | null;
  lastGc?: { at?: string; ok?: boolean; message?: string } | null;
  lastCheck?: LastCheck | null;
  /** the saved settings could not be read: the backend started with defaults */
  settingsProblem?: { code?: string; keptAs?: string; message?: string; detail?: string; hint?: string } | null;
}

interface SecretFact { set?: boolean; satellite?: string }

interface Config {
  mode?: string;
  port?: number;
  bind?: string;
  bucket?: string;
  accessGrant?: SecretFact | boolean | string | null;
  s3?: { endpoint?: string; region?: string; accessKey?: string; secretKey?: SecretFact | boolean | string | null; fromGrant?: boolean };
  authService?: string;
  unencryptedKeys?: boolean;
  cache?: CacheConfig | null;
  warnings?: Finding[];
  registry?: RegistryVerdict;
}

interface Finding { code?: string; severity?: 'error' | 'warning' | 'info'; message?: string; fix?: string; action?: string }
interface RegistryVerdict { ready?: boolean; mode?: string; findings?: Finding[] }

interface GrantInfo {
  satellite?: { address?: string; host?: string; region?: string | null };
  permissions?: { read?: boolean; write?: boolean; list?: boolean; delete?: boolean };
  buckets?: string[] | null;
  notAfter?: string | null;
  notBefore?: string | null;
  maxObjectTTL?: number | null;
  pathEncryption?: string;
  warnings?: Finding[];
  registry?: RegistryVerdict;
  suggestedBucket?: string | null;
}

interface LogLine { container?: string; stream?: string; text?: string }

/** a platform of an image as the index answers it (the registry's own answer names platforms only) */
interface PlatformInfo { platform?: string; digest?: string; size?: number }
/** a tag: the index answers null for what it does not know; the registry's answer has no dates, a layer count and platform names */
interface TagInfo { tag: string; digest?: string; kind?: string | null; mediaType?: string | null; size?: number | null; layers?: number; platforms?: Array<string | PlatformInfo>; manifests?: string[]; config?: string; created?: string | null; pushed?: string | null; pushedBy?: string | null; lastPulled?: string | null; pulls?: number }
interface LayerInfo { digest?: string | null; size?: number; mediaType?: string | null }
interface PlatformDetail { platform?: string; digest?: string; mediaType?: string | null; size?: number; created?: string | null; layers?: LayerInfo[]; layersTruncated?: boolean; labels?: Record<string, string> }
interface ImageDetail { name?: string; digest?: string; kind?: string; mediaType?: string | null; platforms?: PlatformDetail[]; truncated?: boolean }
interface RepoInfo { name: string; size?: number; tags?: TagInfo[]; tagCount?: number; pushed?: string; lastPulled?: string; pulls?: number }
interface Repositories { repositories?: RepoInfo[]; totalSize?: number; truncated?: boolean; total?: number; totalKnown?: boolean; offset?: number; nextOffset?: number | null; index?: { state?: string; reconciledAt?: string } | null }

interface UsersInfo { users?: { name: string }[]; count?: number; authEnabled?: boolean; authRunning?: boolean | null; bind?: string; loopback?: boolean; port?: number }
interface UserChange { name?: string; applied?: 'live' | 'restart' | 'next-start'; count?: number; password?: string }
