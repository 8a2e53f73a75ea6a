import {
  AdminAddUserToGroupCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  paginateListUserPools,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { settings } from '../platform/settings.js';

/** The pool of this name; an error that says so when there is none, or more than one. */
async function userPoolId(cognito: CognitoIdentityProviderClient, poolName: string): Promise<string> {
  const ids: string[] = [];
  for await (const page of paginateListUserPools({ client: cognito }, { MaxResults: 60 })) ids.push(...(page.UserPools ?? []).filter((pool) => pool.Name === poolName).map((pool) => pool.Id!));
  if (ids.length !== 1) throw new Error(ids.length === 0 ? `No user pool is named ${poolName}: check --prefix and --region` : `${ids.length} user pools are named ${poolName}`);
  return ids[0]!;
}

/**
 * Puts the account with this address in the staff group, or takes it out; true when that changed
 * anything. An address with no account fails (Cognito's UserNotFoundException), and so does, for `add`,
 * an account not confirmed with a verified address.
 */
export async function setStaffMember(cognito: CognitoIdentityProviderClient, { poolName, email, member }: { poolName: string; email: string; member: boolean }): Promise<boolean> {
  const UserPoolId = await userPoolId(cognito, poolName);
  const GroupName = settings.accounts.staffGroup;
  // The pool signs in by email, so the account's user name is its generated id: asked for once, by address.
  const { Username, UserStatus, UserAttributes = [] } = await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: email }));
  // Only an address its owner proved: an account still unconfirmed (or one that changed its address
  // without verifying it) may be someone else's, waiting for the real owner to be made staff.
  const verified = UserAttributes.some((attribute) => attribute.Name === 'email_verified' && attribute.Value === 'true');
  if (member && (UserStatus !== 'CONFIRMED' || !verified)) throw new Error(`The account of ${email} is not confirmed with a verified address (${UserStatus ?? 'unknown status'}): its owner signs in once first`);
  const { Groups = [] } = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId, Username, Limit: 60 }));
  const isMember = Groups.some((group) => group.GroupName === GroupName);
  if (isMember === member) return false;
  await cognito.send(member ? new AdminAddUserToGroupCommand({ UserPoolId, Username, GroupName }) : new AdminRemoveUserFromGroupCommand({ UserPoolId, Username, GroupName }));
  return true;
}
