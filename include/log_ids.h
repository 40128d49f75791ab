/* MESSAGE_ID values of the events an operator searches for
 * (journalctl MESSAGE_ID=...). */
#ifndef GLUEMETAD_LOG_IDS_H
#define GLUEMETAD_LOG_IDS_H

#define LOG_ID_RUN_STARTED   "6b2c1a0e4f3d4b8e9a7c5d1e2f3a4b5c"
#define LOG_ID_RUN_FINISHED  "9d8e7f6a5b4c4d3e8f2a1b0c9d8e7f6a"
#define LOG_ID_RELOAD_OK     "1f2e3d4c5b6a4978a6b5c4d3e2f1a0b9"
#define LOG_ID_RELOAD_FAILED "a0b1c2d3e4f54a6b8c7d9e0f1a2b3c4d"
#define LOG_ID_RUN_SKIPPED   "c3d4e5f6a7b84c9d9e0f1a2b3c4d5e6f"
#define LOG_ID_CTL_REFUSED   "bd92e75f670246e8b55f9696f813ad08"

#endif
