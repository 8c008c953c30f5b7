"""Multi-agent MuJoCo robot descriptions: joints, graph, partitions (pure data, no brax import).

One `Robot` per body: its actuated joints (index into brax's `q`, `qd` and actuator vectors),
the hyper-edges of the joint graph (for `obsk`), the global root features, and the named
partitions (agent -> joints). Sources: MaMuJoCo (de Witt et al., `multiagent_mujoco/obsk.py`, as
used by OMAR) and its gymnasium-robotics successor (`mamujoco_v1`, `obsk.py`
`get_parts_and_edges`). The indices were read off brax 0.14's `System` (`actuator.q_id`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Joint:
    name: str
    q: int  # index in brax's generalized position q
    qd: int  # index in brax's generalized velocity qd
    act: int  # index in brax's actuator (action) vector


@dataclass(frozen=True)
class Robot:
    brax_name: str
    joints: tuple[Joint, ...]
    edges: tuple[tuple[str, ...], ...]  # hyper-edges of the joint graph
    partitions: dict[str, tuple[tuple[str, ...], ...]]
    # categories observed at graph distance 0, 1, ... (the last repeats): MaMuJoCo's k_categories
    k_categories: tuple[tuple[str, ...], ...] = (("qpos", "qvel"), ("qpos",))
    # root features every agent sees when global categories are on: (category, index) pairs
    root: tuple[tuple[str, int], ...] = ()
    qvel_clip: float | None = None  # MaMuJoCo clips hopper's velocities to +-10

    def joint(self, name: str) -> Joint:
        return next(j for j in self.joints if j.name == name)


def _planar_root(x_vel_only: bool = True) -> tuple[tuple[str, int], ...]:
    """Planar robots' root slide/hinge joints (x, z, y): position except x, and velocities."""
    return (("qpos", 1), ("qpos", 2), ("qvel", 0), ("qvel", 1), ("qvel", 2))


HALFCHEETAH = Robot(
    brax_name="halfcheetah",
    joints=tuple(
        Joint(n, 3 + i, 3 + i, i)
        for i, n in enumerate(["bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot"])
    ),
    edges=(
        ("bfoot", "bshin"),
        ("bshin", "bthigh"),
        ("bthigh", "fthigh"),
        ("fthigh", "fshin"),
        ("fshin", "ffoot"),
    ),
    # OMAR's MaMuJoCo lists each leg foot-first; gymnasium-robotics v1 lists it thigh-first.
    partitions={
        "2x3": (("bfoot", "bshin", "bthigh"), ("ffoot", "fshin", "fthigh")),
        "6x1": (("bthigh",), ("bshin",), ("bfoot",), ("fthigh",), ("fshin",), ("ffoot",)),
    },
    root=_planar_root(),
)

HOPPER = Robot(
    brax_name="hopper",
    joints=tuple(
        Joint(n, 3 + i, 3 + i, i) for i, n in enumerate(["thigh_joint", "leg_joint", "foot_joint"])
    ),
    edges=(("foot_joint", "leg_joint"), ("leg_joint", "thigh_joint")),
    partitions={"3x1": (("thigh_joint",), ("leg_joint",), ("foot_joint",))},
    root=_planar_root(),
    qvel_clip=10.0,
)

WALKER2D = Robot(
    brax_name="walker2d",
    joints=tuple(
        Joint(n, 3 + i, 3 + i, i)
        for i, n in enumerate(
            [
                "thigh_joint",
                "leg_joint",
                "foot_joint",
                "thigh_left_joint",
                "leg_left_joint",
                "foot_left_joint",
            ]
        )
    ),
    edges=(
        ("foot_joint", "leg_joint"),
        ("leg_joint", "thigh_joint"),
        ("foot_left_joint", "leg_left_joint"),
        ("leg_left_joint", "thigh_left_joint"),
        ("thigh_joint", "thigh_left_joint"),
    ),
    partitions={
        "2x3": (
            ("foot_joint", "leg_joint", "thigh_joint"),
            ("foot_left_joint", "leg_left_joint", "thigh_left_joint"),
        ),
    },
    root=_planar_root(),
)

# brax's ant: q = [free joint (7), hip1, ankle1, hip2, ankle2, hip3, ankle3, hip4, ankle4];
# actuators in gym's order: hip4, ankle4, hip1, ankle1, hip2, ankle2, hip3, ankle3.
ANT = Robot(
    brax_name="ant",
    joints=tuple(
        Joint(n, q, q - 1, a)
        for n, q, a in [
            ("hip1", 7, 2),
            ("ankle1", 8, 3),
            ("hip2", 9, 4),
            ("ankle2", 10, 5),
            ("hip3", 11, 6),
            ("ankle3", 12, 7),
            ("hip4", 13, 0),
            ("ankle4", 14, 1),
        ]
    ),
    edges=(
        ("ankle4", "hip4"),
        ("ankle1", "hip1"),
        ("ankle2", "hip2"),
        ("ankle3", "hip3"),
        ("hip4", "hip1", "hip2", "hip3"),
    ),
    partitions={
        "2x4": (("hip1", "ankle1", "hip2", "ankle2"), ("hip3", "ankle3", "hip4", "ankle4")),
        "4x2": (("hip1", "ankle1"), ("hip2", "ankle2"), ("hip3", "ankle3"), ("hip4", "ankle4")),
    },
    # torso height and orientation (qpos[2:7]) and its 6-D velocity (qvel[:6])
    root=tuple(("qpos", i) for i in range(2, 7)) + tuple(("qvel", i) for i in range(6)),
)

# env name -> (robot, partition, default obsk, default: root features observed)
SPLITS: dict[str, tuple[Robot, str, int, bool]] = {
    # OMAR's protocol: obsk 0 and no global features, so each agent sees 6 numbers.
    "halfcheetah_2x3": (HALFCHEETAH, "2x3", 0, False),
    "halfcheetah_6x1": (HALFCHEETAH, "6x1", 1, False),
    "hopper_3x1": (HOPPER, "3x1", 1, True),
    "walker2d_2x3": (WALKER2D, "2x3", 1, True),
    "ant_2x4": (ANT, "2x4", 1, True),
    "ant_4x2": (ANT, "4x2", 1, True),
}


def joints_at_distance(robot: Robot, own: tuple[str, ...], k: int) -> list[list[str]]:
    """`[d] -> joints first reached at graph distance d` (d = 0..k), MaMuJoCo's k-neighbourhood."""
    order = {j.name: i for i, j in enumerate(robot.joints)}
    seen, frontier, layers = set(own), list(own), [list(own)]
    for _ in range(k):
        nxt = {n for e in robot.edges if any(f in e for f in frontier) for n in e} - seen
        layers.append(sorted(nxt, key=order.__getitem__))
        seen |= nxt
        frontier = list(nxt)
    return layers
