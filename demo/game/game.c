// The demo game: a small headless game with threads like a real game's, and a player whose health and ammo
// the programs in demo/cheats find in its memory and change.
//
//   game [--seed N] [--duration SECONDS] [--frames-per-second FPS] [--state-file PATH]
//
// Defaults: seed 1, 4 seconds, 60 frames per second, no state file. Threads (named with pthread_setname_np;
// naming the main thread "main" also makes "main" the process's comm, what ps and /proc/PID/comm show):
//   main    the frame loop, paced on CLOCK_MONOTONIC (the clock a speedhack fakes): each frame plays seeded
//           events (moving, taking damage, healing, shooting, picking up ammo) and wakes the audio thread.
//   server  a listen server on a UDP socket bound to 127.0.0.1 that acknowledges every packet it gets.
//   net     the client side: sends an input packet to the server 20 times a second and waits for the ack.
//   assets  streams one of the asset files back from disk every 200 ms (the main thread unpacks them into
//           a temporary directory at start, like a loading screen, and removes them at exit).
//   audio   waits on a condition variable for each frame's buffer and mixes it.
//
// Deterministic given the seed: the game plays exactly round(SECONDS * FPS) frames and draws the same random
// numbers in each, so one seed always gives the same events, events_hash and final state (unless a cheat
// changes the player or a signal stops the game early). Syscall counts depend on timing and vary a little.
//
// The player is one heap struct with a fixed layout, which the cheats know (demo/cheats/cheat.h):
//   offset 0 magic 0x47504F21 ("GPO!" in hex), 4 health (int32), 8 ammo (int32), 12 frame (uint32),
//   16 x (float), 20 y (float), 24 the struct's own address (uint64: tells the struct from stray copies).
// The game itself keeps health within 1..100 (dying respawns at 100) and ammo within 0..99; it records the
// highest values it ever reads (max_health, max_ammo), so a cheat's 999 shows in its status.
//
// stdout carries one JSON object per line, written with one write(2) each:
//   {"event":"start","pid":P,"seed":S,"player":"0x...","fps":F,"frames_planned":N,"assets_dir":"..."}
//     once every thread runs;
//   {"event":"status",...} on SIGUSR2, and {"event":"exit",...} at the end, both with the fields
//     pid seed player fps frames frames_planned health ammo x y deaths events events_hash max_health max_ammo
//     game_seconds real_seconds clock_ratio frame_ms_mean frame_ms_max net_roundtrips assets_read audio_buffers
//     audio_level
//   game_seconds is measured on the game's clock (clock_gettime through libc), real_seconds on the raw
//   clock_gettime syscall, which an LD_PRELOAD hook cannot fake: clock_ratio is ~1 normally, ~2 under a 2x
//   speedhack. frame_ms_* are the game-clock times between frame starts.
// With --state-file the latest status is also written to PATH every game second and at exit (replaced
// atomically through PATH.tmp). SIGTERM and SIGINT end the game early; it exits 0 either way, 1 when it
// cannot start (2 on bad arguments).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PLAYER_MAGIC 0x47504F21u
#define MAX_HEALTH 100
#define MAX_AMMO 99
#define RESPAWN_AMMO 60
#define NS_PER_SEC 1000000000LL
#define NET_TICK_NS (50 * 1000000LL)
#define ASSET_TICK_NS (200 * 1000000LL)
#define SOCKET_TIMEOUT_US 100000
#define AUDIO_SAMPLES 256
#define AUDIO_PHASE_STEP ((440u << 16) / 48000u) // a 440 Hz tone at 48 kHz, in 1/65536ths of a cycle

struct player {
  uint32_t magic;
  int32_t health;
  int32_t ammo;
  uint32_t frame;
  float x, y;
  uint64_t self;
};
_Static_assert(offsetof(struct player, health) == 4 && offsetof(struct player, ammo) == 8 &&
                   offsetof(struct player, frame) == 12 && offsetof(struct player, x) == 16 &&
                   offsetof(struct player, y) == 20 && offsetof(struct player, self) == 24 &&
                   sizeof(struct player) == 32,
               "demo/cheats/cheat.h depends on this layout");

struct asset {
  const char *name;
  size_t size;
};
static const struct asset ASSETS[] = {{"level.map", 48 << 10}, {"sounds.bank", 24 << 10}, {"textures.pak", 96 << 10}};
#define ASSET_COUNT (sizeof ASSETS / sizeof ASSETS[0])

struct options {
  uint64_t seed;
  double duration;
  long fps;
  const char *state_file;
};

// Datagrams between the net and server threads: the client's sequence number, echoed in the ack.
struct packet {
  uint32_t seq;
  uint32_t frame;
};

struct game {
  // Written only by the main thread, and by cheats from outside: volatile so every frame reads memory.
  volatile struct player *player;
  uint64_t player_address;
  struct options options;
  uint64_t frames_planned;
  char assets_dir[PATH_MAX];

  // Main thread only.
  uint64_t rng;
  float vx, vy;
  uint32_t frames, deaths, events;
  uint64_t events_hash;
  int32_t max_health, max_ammo;
  int64_t game_start_ns, real_start_ns, last_frame_ns, frame_ns_sum, frame_ns_max;
  int64_t game_end_ns, real_end_ns; // set when the frame loop ends, so shutting down is not counted

  // Shared with the other threads.
  atomic_bool stopping;
  atomic_uint frames_done;
  atomic_ulong net_roundtrips, assets_read, audio_buffers, audio_level;
  int server_fd, client_fd;
  pthread_mutex_t audio_lock;
  pthread_cond_t audio_wake;
  unsigned audio_pending;
};

static volatile sig_atomic_t stop_requested, status_requested;

static void on_signal(int sig) {
  if (sig == SIGUSR2)
    status_requested = 1;
  else
    stop_requested = 1;
}

// splitmix64: small, fast, and the same sequence on every machine.
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The game's clock: CLOCK_MONOTONIC through libc (the vDSO), as game frame timers read it.
static int64_t game_clock_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * NS_PER_SEC + t.tv_nsec;
}

// The same clock read through the raw syscall, which a hook on libc's clock_gettime does not see.
static int64_t reference_clock_ns(void) {
  struct timespec t;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
  return t.tv_sec * NS_PER_SEC + t.tv_nsec;
}

static void sleep_ns(int64_t ns) {
  struct timespec t = {.tv_sec = ns / NS_PER_SEC, .tv_nsec = ns % NS_PER_SEC};
  nanosleep(&t, NULL);
}

static bool write_all(int fd, const char *text, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, text, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text += n;
    length -= (size_t)n;
  }
  return true;
}

static void *serve(void *arg) {
  struct game *g = arg;
  while (!atomic_load(&g->stopping)) {
    struct packet p;
    struct sockaddr_in from;
    socklen_t from_length = sizeof from;
    // Returns every SOCKET_TIMEOUT_US at the latest, so the thread notices the game stopping.
    ssize_t n = recvfrom(g->server_fd, &p, sizeof p, 0, (struct sockaddr *)&from, &from_length);
    if (n != sizeof p) continue;
    p.frame = atomic_load(&g->frames_done);
    sendto(g->server_fd, &p, sizeof p, 0, (struct sockaddr *)&from, from_length);
  }
  return NULL;
}

static void *exchange_packets(void *arg) {
  struct game *g = arg;
  for (uint32_t seq = 1; !atomic_load(&g->stopping); seq++) {
    struct packet out = {.seq = seq, .frame = atomic_load(&g->frames_done)}, in;
    if (send(g->client_fd, &out, sizeof out, 0) == sizeof out) {
      // Skip acks that arrived after an earlier timeout; give up on this one after SOCKET_TIMEOUT_US.
      while (recv(g->client_fd, &in, sizeof in, 0) == sizeof in) {
        if (in.seq == seq) {
          atomic_fetch_add(&g->net_roundtrips, 1);
          break;
        }
      }
    }
    sleep_ns(NET_TICK_NS);
  }
  return NULL;
}

static bool asset_path(const struct game *g, size_t index, char *path, size_t size) {
  return (size_t)snprintf(path, size, "%s/%s", g->assets_dir, ASSETS[index].name) < size;
}

static void *stream_assets(void *arg) {
  struct game *g = arg;
  char chunk[16 << 10];
  for (size_t i = 0; !atomic_load(&g->stopping); i = (i + 1) % ASSET_COUNT) {
    char path[PATH_MAX];
    int fd = asset_path(g, i, path, sizeof path) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
      while (read(fd, chunk, sizeof chunk) > 0) {
      }
      close(fd);
      atomic_fetch_add(&g->assets_read, 1);
    }
    sleep_ns(ASSET_TICK_NS);
  }
  return NULL;
}

static void *mix_audio(void *arg) {
  struct game *g = arg;
  int16_t buffer[AUDIO_SAMPLES];
  uint32_t phase = 0;
  pthread_mutex_lock(&g->audio_lock);
  for (;;) {
    while (g->audio_pending == 0 && !atomic_load(&g->stopping)) pthread_cond_wait(&g->audio_wake, &g->audio_lock);
    if (atomic_load(&g->stopping)) break;
    g->audio_pending--;
    pthread_mutex_unlock(&g->audio_lock);

    // A triangle wave; the level (mean absolute sample) is what a meter would show.
    unsigned long level = 0;
    for (int i = 0; i < AUDIO_SAMPLES; i++) {
      phase += AUDIO_PHASE_STEP;
      int32_t ramp = (int32_t)(phase & 0xFFFF) - 0x8000;
      buffer[i] = (int16_t)((ramp < 0 ? -ramp : ramp) - 0x4000);
      level += (unsigned long)(buffer[i] < 0 ? -buffer[i] : buffer[i]);
    }
    atomic_store(&g->audio_level, level / AUDIO_SAMPLES);
    atomic_fetch_add(&g->audio_buffers, 1);

    pthread_mutex_lock(&g->audio_lock);
  }
  pthread_mutex_unlock(&g->audio_lock);
  return NULL;
}

// Reads health and ammo as the game sees them, remembering the highest values ever seen.
static void observe_player(struct game *g) {
  int32_t health = g->player->health, ammo = g->player->ammo;
  if (health > g->max_health) g->max_health = health;
  if (ammo > g->max_ammo) g->max_ammo = ammo;
}

// FNV-1a over each event's frame, kind and amount: equal hashes mean equal event sequences.
static void record_event(struct game *g, char kind, int32_t amount) {
  uint64_t fields[3] = {g->frames, (uint64_t)(unsigned char)kind, (uint64_t)(uint32_t)amount};
  const unsigned char *bytes = (const unsigned char *)fields;
  for (size_t i = 0; i < sizeof fields; i++) g->events_hash = (g->events_hash ^ bytes[i]) * 0x100000001B3ull;
  g->events++;
}

static float clamp_speed(float v) {
  return v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
}

// One frame of play. Draws exactly four random numbers whatever happens, so frame N's events depend only on
// the seed.
static void play_frame(struct game *g) {
  volatile struct player *p = g->player;
  uint64_t move = next_random(&g->rng), hit = next_random(&g->rng), heal = next_random(&g->rng),
           shot = next_random(&g->rng);

  g->vx = clamp_speed(g->vx + (float)((int)(move % 3) - 1) * 0.05f);
  g->vy = clamp_speed(g->vy + (float)((int)((move >> 8) % 3) - 1) * 0.05f);
  p->x += g->vx;
  p->y += g->vy;

  if (hit % 30 == 0) {
    int32_t damage = 1 + (int32_t)((hit >> 16) % 12);
    p->health -= damage;
    record_event(g, 'd', damage);
    if (p->health <= 0) {
      p->health = MAX_HEALTH;
      p->ammo = RESPAWN_AMMO;
      g->deaths++;
      record_event(g, 'r', 0);
    }
  }
  if (heal % 60 == 0 && p->health < MAX_HEALTH) {
    int32_t amount = 5 + (int32_t)((heal >> 16) % 11), healed = p->health + amount;
    p->health = healed > MAX_HEALTH ? MAX_HEALTH : healed;
    record_event(g, 'h', amount);
  }
  if (shot % 12 == 0 && p->ammo > 0) {
    p->ammo--;
    record_event(g, 's', 1);
  }
  if (shot % 250 == 1 && p->ammo < MAX_AMMO) {
    int32_t picked = p->ammo + 20;
    p->ammo = picked > MAX_AMMO ? MAX_AMMO : picked;
    record_event(g, 'a', 20);
  }
  p->frame = g->frames;
}

static void format_status(const struct game *g, const char *event, char *out, size_t size) {
  int64_t game_ns = (g->game_end_ns ? g->game_end_ns : game_clock_ns()) - g->game_start_ns;
  int64_t real_ns = (g->real_end_ns ? g->real_end_ns : reference_clock_ns()) - g->real_start_ns;
  uint32_t gaps = g->frames > 1 ? g->frames - 1 : 0;
  snprintf(out, size,
           "{\"event\":\"%s\",\"pid\":%d,\"seed\":%" PRIu64 ",\"player\":\"0x%" PRIx64 "\",\"fps\":%ld,\"frames\":%" PRIu32
           ",\"frames_planned\":%" PRIu64 ",\"health\":%" PRId32 ",\"ammo\":%" PRId32
           ",\"x\":%.3f,\"y\":%.3f,\"deaths\":%" PRIu32 ",\"events\":%" PRIu32 ",\"events_hash\":\"%016" PRIx64
           "\",\"max_health\":%" PRId32 ",\"max_ammo\":%" PRId32
           ",\"game_seconds\":%.4f,\"real_seconds\":%.4f,\"clock_ratio\":%.4f,\"frame_ms_mean\":%.3f"
           ",\"frame_ms_max\":%.3f,\"net_roundtrips\":%lu,\"assets_read\":%lu,\"audio_buffers\":%lu"
           ",\"audio_level\":%lu}\n",
           event, (int)getpid(), g->options.seed, g->player_address, g->options.fps, g->frames, g->frames_planned,
           g->player->health, g->player->ammo, (double)g->player->x, (double)g->player->y, g->deaths, g->events,
           g->events_hash, g->max_health, g->max_ammo, (double)game_ns / 1e9, (double)real_ns / 1e9,
           real_ns > 0 ? (double)game_ns / (double)real_ns : 0.0, gaps ? (double)g->frame_ns_sum / gaps / 1e6 : 0.0,
           (double)g->frame_ns_max / 1e6, atomic_load(&g->net_roundtrips), atomic_load(&g->assets_read),
           atomic_load(&g->audio_buffers), atomic_load(&g->audio_level));
}

static void write_state_file(const struct game *g, const char *status) {
  const char *path = g->options.state_file;
  char temporary[PATH_MAX];
  int fd = -1;
  if ((size_t)snprintf(temporary, sizeof temporary, "%s.tmp", path) < sizeof temporary)
    fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool written = fd >= 0 && write_all(fd, status, strlen(status));
  if (fd >= 0) close(fd);
  if (!written || rename(temporary, path) != 0) fprintf(stderr, "game: cannot write %s: %s\n", path, strerror(errno));
}

static void report(const struct game *g, const char *event) {
  char status[2048];
  format_status(g, event, status, sizeof status);
  write_all(STDOUT_FILENO, status, strlen(status));
  if (g->options.state_file) write_state_file(g, status);
}

static void run_frames(struct game *g) {
  const int64_t period = NS_PER_SEC / g->options.fps;
  g->game_start_ns = g->last_frame_ns = game_clock_ns();
  g->real_start_ns = reference_clock_ns();
  int64_t deadline = g->game_start_ns;
  while (g->frames < g->frames_planned && !stop_requested) {
    int64_t start = game_clock_ns();
    if (g->frames > 0) {
      int64_t gap = start - g->last_frame_ns;
      g->frame_ns_sum += gap;
      if (gap > g->frame_ns_max) g->frame_ns_max = gap;
    }
    g->last_frame_ns = start;

    // Observed before and after the frame's own changes, so a cheat's write is seen before play alters it.
    observe_player(g);
    play_frame(g);
    observe_player(g);
    g->frames++;
    atomic_store(&g->frames_done, g->frames);

    pthread_mutex_lock(&g->audio_lock);
    g->audio_pending++;
    pthread_cond_signal(&g->audio_wake);
    pthread_mutex_unlock(&g->audio_lock);

    if (status_requested) {
      status_requested = 0;
      report(g, "status");
    } else if (g->options.state_file && g->frames % (uint32_t)g->options.fps == 0) {
      char status[2048];
      format_status(g, "status", status, sizeof status);
      write_state_file(g, status);
    }

    // Pace to the deadline on the game's clock; after a long stall, start again from now rather than rush.
    deadline += period;
    int64_t now = game_clock_ns();
    if (now - deadline > 4 * period) deadline = now;
    while (now < deadline && !stop_requested) {
      sleep_ns(deadline - now);
      now = game_clock_ns();
    }
  }
  g->game_end_ns = game_clock_ns();
  g->real_end_ns = reference_clock_ns();
}

static int usage(void) {
  fprintf(stderr, "usage: game [--seed N] [--duration SECONDS] [--frames-per-second FPS] [--state-file PATH]\n");
  return 2;
}

static bool parse_options(int argc, char **argv, struct options *o) {
  static const struct option longs[] = {{"seed", required_argument, NULL, 's'},
                                        {"duration", required_argument, NULL, 'd'},
                                        {"frames-per-second", required_argument, NULL, 'f'},
                                        {"state-file", required_argument, NULL, 'o'},
                                        {NULL, 0, NULL, 0}};
  *o = (struct options){.seed = 1, .duration = 4.0, .fps = 60};
  for (int c; (c = getopt_long(argc, argv, "", longs, NULL)) != -1;) {
    char *end = NULL;
    errno = 0;
    switch (c) {
    case 's': o->seed = strtoull(optarg, &end, 10); break;
    case 'd': o->duration = strtod(optarg, &end); break;
    case 'f': o->fps = strtol(optarg, &end, 10); break;
    case 'o': o->state_file = optarg; continue;
    default: return false;
    }
    if (errno != 0 || end == optarg || *end != '\0') return false;
  }
  return optind == argc && o->duration > 0 && o->duration <= 86400 && o->fps >= 1 && o->fps <= 1000;
}

// The loading screen: writes the asset files the assets thread streams, with seeded contents.
static bool unpack_assets(struct game *g) {
  const char *tmp = getenv("TMPDIR");
  if ((size_t)snprintf(g->assets_dir, sizeof g->assets_dir, "%s/gpo-demo-assets-XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
          sizeof g->assets_dir ||
      !mkdtemp(g->assets_dir))
    return false;
  uint64_t rng = g->options.seed ^ 0xA55E75A55E75ull;
  for (size_t i = 0; i < ASSET_COUNT; i++) {
    char path[PATH_MAX];
    int fd = asset_path(g, i, path, sizeof path) ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
    bool written = fd >= 0;
    for (size_t offset = 0; written && offset < ASSETS[i].size; offset += sizeof(uint64_t)) {
      uint64_t word = next_random(&rng);
      written = write_all(fd, (const char *)&word, sizeof word);
    }
    if (fd >= 0) close(fd);
    if (!written) return false;
  }
  return true;
}

static void remove_assets(const struct game *g) {
  for (size_t i = 0; i < ASSET_COUNT; i++) {
    char path[PATH_MAX];
    if (asset_path(g, i, path, sizeof path)) unlink(path);
  }
  rmdir(g->assets_dir);
}

// The server socket on an ephemeral loopback port, and a client socket connected to it. Both time out on
// receive so their threads notice the game stopping.
static bool open_sockets(struct game *g) {
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t length = sizeof address;
  struct timeval timeout = {.tv_usec = SOCKET_TIMEOUT_US};
  g->server_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g->client_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  return g->server_fd >= 0 && g->client_fd >= 0 &&
         bind(g->server_fd, (struct sockaddr *)&address, sizeof address) == 0 &&
         getsockname(g->server_fd, (struct sockaddr *)&address, &length) == 0 &&
         connect(g->client_fd, (struct sockaddr *)&address, sizeof address) == 0 &&
         setsockopt(g->server_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0 &&
         setsockopt(g->client_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0;
}

int main(int argc, char **argv) {
  static struct game g = {.audio_lock = PTHREAD_MUTEX_INITIALIZER, .audio_wake = PTHREAD_COND_INITIALIZER};
  if (!parse_options(argc, argv, &g.options)) return usage();
  g.frames_planned = (uint64_t)(g.options.duration * (double)g.options.fps + 0.5);
  if (g.frames_planned == 0) g.frames_planned = 1;
  g.rng = g.options.seed;
  g.events_hash = 0xCBF29CE484222325ull;

  // Handlers set flags the frame loop checks. The signals are blocked while the other threads start (they
  // inherit the mask), so only the main thread takes them and its sleep is what they interrupt.
  static const int signals[] = {SIGTERM, SIGINT, SIGUSR2};
  struct sigaction action = {.sa_handler = on_signal};
  sigemptyset(&action.sa_mask);
  sigset_t handled;
  sigemptyset(&handled);
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
    sigaction(signals[i], &action, NULL);
    sigaddset(&handled, signals[i]);
  }
  pthread_sigmask(SIG_BLOCK, &handled, NULL);

  struct player *player = aligned_alloc(64, 64);
  if (!player) {
    perror("game: aligned_alloc");
    return 1;
  }
  *player = (struct player){
      .magic = PLAYER_MAGIC, .health = MAX_HEALTH, .ammo = RESPAWN_AMMO, .self = (uint64_t)(uintptr_t)player};
  g.player = player;
  g.player_address = (uint64_t)(uintptr_t)player;
  g.max_health = player->health;
  g.max_ammo = player->ammo;

  if (!unpack_assets(&g)) {
    fprintf(stderr, "game: cannot unpack assets into %s: %s\n", g.assets_dir, strerror(errno));
    return 1;
  }
  if (!open_sockets(&g)) {
    fprintf(stderr, "game: cannot open loopback sockets: %s\n", strerror(errno));
    remove_assets(&g);
    return 1;
  }

  // Named here rather than by themselves, so every thread has its name by the time "start" is printed.
  void *(*const bodies[])(void *) = {serve, exchange_packets, stream_assets, mix_audio};
  const char *const names[] = {"server", "net", "assets", "audio"};
  pthread_t threads[4];
  size_t started = 0;
  int err = 0;
  for (; started < 4 && (err = pthread_create(&threads[started], NULL, bodies[started], &g)) == 0; started++)
    pthread_setname_np(threads[started], names[started]);
  pthread_setname_np(pthread_self(), "main");
  pthread_sigmask(SIG_UNBLOCK, &handled, NULL);

  if (err == 0) {
    char line[PATH_MAX + 256];
    snprintf(line, sizeof line,
             "{\"event\":\"start\",\"pid\":%d,\"seed\":%" PRIu64 ",\"player\":\"0x%" PRIx64 "\",\"fps\":%ld"
             ",\"frames_planned\":%" PRIu64 ",\"assets_dir\":\"%s\"}\n",
             (int)getpid(), g.options.seed, g.player_address, g.options.fps, g.frames_planned, g.assets_dir);
    write_all(STDOUT_FILENO, line, strlen(line));
    run_frames(&g);
  } else {
    fprintf(stderr, "game: pthread_create: %s\n", strerror(err));
  }

  pthread_mutex_lock(&g.audio_lock);
  atomic_store(&g.stopping, true);
  pthread_cond_broadcast(&g.audio_wake);
  pthread_mutex_unlock(&g.audio_lock);
  for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
  remove_assets(&g);
  if (err != 0) return 1;

  observe_player(&g);
  report(&g, "exit");
  return 0;
}
