// Atlassian organization audit log (admin.atlassian.com, /admin/v1/orgs/{orgId}/events[-stream]):
// our own categorization, in the spirit of the product tables; Elastic has no mapping for these.
//
// Provenance of the keys: `user_added_to_group`, `api_token_created`, `user_granted_role` appear in the
// shared fixtures (illustrative values built from the official EventPage model). The other keys follow
// the same `<object>_<verb>` naming and are UNCONFIRMED: check them against
// `GET /admin/v1/orgs/{orgId}/event-actions` of a real organization and extend this table (docs/ecs-org-mapping.md).
// An action that is not here still normalizes: event.kind "event", event.type ["info"], no category.
import { type Categorization, categorizationTable, type ProductRules } from './types'

const groupChange: Categorization = { category: ['iam'], type: ['group', 'change'] }
const userChange: Categorization = { category: ['iam'], type: ['user', 'change'] }
const adminChange: Categorization = { category: ['iam'], type: ['admin', 'change'] }

export const ORG_CATEGORIZATION = categorizationTable([
  [['user_added_to_group', 'user_removed_from_group'], groupChange],
  [['group_created'], { category: ['iam'], type: ['group', 'creation'] }],
  [['group_deleted'], { category: ['iam'], type: ['group', 'deletion'] }],
  [['user_created', 'user_invited'], { category: ['iam'], type: ['user', 'creation'] }],
  [['user_deleted'], { category: ['iam'], type: ['user', 'deletion'] }],
  [
    [
      'user_granted_role',
      'user_revoked_role',
      'user_activated',
      'user_deactivated',
      'user_suspended',
      'user_restored',
      'user_granted_product_access',
      'user_revoked_product_access',
    ],
    userChange,
  ],
  [['group_granted_role', 'group_revoked_role'], groupChange],
  [['org_admin_added', 'org_admin_removed'], adminChange],
  [['api_token_created'], { category: ['iam'], type: ['user', 'creation'] }],
  [['api_token_revoked', 'api_token_deleted'], { category: ['iam'], type: ['user', 'deletion'] }],
  [['api_key_created'], { category: ['iam'], type: ['admin', 'creation'] }],
  [['api_key_revoked', 'api_key_deleted'], { category: ['iam'], type: ['admin', 'deletion'] }],
  [['user_logged_in'], { category: ['authentication'], type: ['start'], outcome: 'success' }],
  [['user_logged_out'], { category: ['authentication'], type: ['end'] }],
  [['user_login_failed'], { category: ['authentication'], type: ['info'], outcome: 'failure' }],
  [['authentication_policy_created'], { category: ['configuration'], type: ['creation'] }],
  [
    ['authentication_policy_updated', 'two_step_verification_enforced'],
    { category: ['configuration'], type: ['change'] },
  ],
  [['authentication_policy_deleted'], { category: ['configuration'], type: ['deletion'] }],
  [['domain_verified'], { category: ['configuration'], type: ['creation'] }],
  [['audit_log_exported'], { category: ['configuration'], type: ['access'] }],
])

const GROUP_MEMBERSHIP = ['user_added_to_group', 'user_removed_from_group']

/** The org event's `context[]` entries play the role of affected objects; their types are plural. */
export const ORG_RULES: ProductRules = {
  categorization: ORG_CATEGORIZATION,
  // Org events carry no category: the extraction runs for every event (the object rules below decide).
  gate: { categoryI18nKeys: [], categories: [] },
  objectRules: [
    { objectType: 'groups', actions: ['group_created', 'group_deleted'], fill: 'group' },
    {
      objectType: 'groups',
      actions: [...GROUP_MEMBERSHIP, 'group_granted_role', 'group_revoked_role'],
      fill: 'target-group',
    },
    {
      objectType: 'users',
      actions: [
        ...GROUP_MEMBERSHIP,
        'user_created',
        'user_invited',
        'user_deleted',
        'user_granted_role',
        'user_revoked_role',
        'user_activated',
        'user_deactivated',
        'user_suspended',
        'user_restored',
        'user_granted_product_access',
        'user_revoked_product_access',
        'org_admin_added',
        'org_admin_removed',
      ],
      fill: 'target-user',
    },
  ],
  changedValueRules: [],
}
