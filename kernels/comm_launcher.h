// What the process launcher (mpirun, srun) tells a rank through its environment.
// Read before MPI_Init, so the CUDA backend can pick this rank's GPU before it
// creates any handle or stream on the default device.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int launched;    // 1 under mpirun/srun, 0 for a plain process
    int size;        // ranks in the job the launcher announced (1 when not launched)
    int rank;        // this rank as the launcher numbers it (0 when not launched)
    int local_rank;  // rank among the ranks on this node: the GPU index to use
    const char *source;  // which variable announced the job ("OMPI_COMM_WORLD_SIZE", ...)
} LauncherEnv;

LauncherEnv launcher_env(void);

#ifdef __cplusplus
}
#endif
