/* What several unit test files share: a table-friendly assertion and the
 * real sample grant. Header only. */
#ifndef SR_TESTUTIL_H
#define SR_TESTUTIL_H

/* Fails the test with a formatted message naming the table row. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg(__VA_ARGS__);                                                                 \
    } while (0)

/* A real grant for eu1.storj.io:7777 with no caveats (gateway-st docs,
 * storj.md 1.2): structurally valid, it opens nothing. */
#define SAMPLE_GRANT                                                                               \
    "12G2HT4B1UXPXcmQ9uijCcfT6vA5gct1RwRq4hZQ4YS51xKN34aihDWZjDMWZJvByTy3BzSuieCmbEKv28wo2Bty7i"   \
    "GDewEYemefDw5hAAJcUJHpYcU24DVLiyoRKyLLGnR3L11QN1sQ6Da41SM62R7AqiBqMMDWB1zmr9gX8CWUwC57zdyH"   \
    "ZGrmRBtwkv1gXrogjtkbzUovXG"

#endif
